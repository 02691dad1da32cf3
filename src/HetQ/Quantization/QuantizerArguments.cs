using System.Globalization;

namespace HetQ.Quantization;

internal enum SpecValueKind { Number, String, Name }

/// <summary>One argument value as written: a number, a quoted string, or a bare name (True, None, RND).</summary>
internal readonly record struct SpecValue(SpecValueKind Kind, string Text, double Number, int Column)
{
    public bool IsName(string name) => Kind == SpecValueKind.Name && Text == name;
    public bool IsNone => IsName("None");
    public bool IsTrue => IsName("True") || (Kind == SpecValueKind.Number && Number != 0);
    public bool IsFalse => IsName("False") || (Kind == SpecValueKind.Number && Number == 0);
    public string Display => Kind == SpecValueKind.String ? $"'{Text}'" : Text;
}

/// <summary>The arguments of one quantizer call bound to its QKeras parameter names, with typed readers
/// that report a bad value at its column. Every argument given must be read by the quantizer's factory.</summary>
internal sealed class QuantizerArguments
{
    private readonly SpecLexer _lexer;
    private readonly SpecToken _name;
    private readonly IReadOnlyList<string> _parameters;
    private readonly Dictionary<string, (SpecValue Value, int Column)> _given = [];
    private readonly HashSet<string> _read = [];
    private int _positional;

    public QuantizerArguments(SpecLexer lexer, SpecToken name, IReadOnlyList<string> parameters)
    {
        _lexer = lexer;
        _name = name;
        _parameters = parameters;
    }

    public string Quantizer => _name.Text;

    public void AddPositional(SpecValue value)
    {
        if (_positional >= _parameters.Count)
            throw _lexer.Error(value.Column, $"{Quantizer} takes at most {_parameters.Count} positional arguments ({string.Join(", ", _parameters)})");
        Add(_parameters[_positional++], value.Column, value);
    }

    public void AddKeyword(string name, SpecToken nameToken, SpecValue value)
    {
        if (!_parameters.Contains(name))
            throw _lexer.Error(nameToken, $"unknown argument '{name}' for {Quantizer}; valid: {string.Join(", ", _parameters)}");
        Add(name, nameToken.Column, value);
    }

    private void Add(string name, int column, SpecValue value)
    {
        if (!_given.TryAdd(name, (value, column)))
            throw _lexer.Error(column, $"argument '{name}' of {Quantizer} is given twice");
    }

    public int Int(string name, int fallback)
    {
        if (!TryTake(name, out var value)) return fallback;
        if (value.IsName("True")) return 1;
        if (value.IsName("False")) return 0;
        if (value.Kind == SpecValueKind.Number && value.Number == Math.Floor(value.Number) && Math.Abs(value.Number) <= 1 << 20)
            return (int)value.Number;
        throw Bad(value, name, "an integer");
    }

    public bool Bool(string name, bool fallback)
    {
        if (!TryTake(name, out var value)) return fallback;
        if (value.IsTrue) return true;
        if (value.IsFalse) return false;
        throw Bad(value, name, "True, False, 1 or 0");
    }

    public double Number(string name, double fallback) => NumberOrNone(name, allowNone: false) ?? fallback;

    public double? NumberOrNone(string name) => NumberOrNone(name, allowNone: true);

    private double? NumberOrNone(string name, bool allowNone)
    {
        if (!TryTake(name, out var value)) return null;
        if (allowNone && value.IsNone) return null;
        if (value.Kind == SpecValueKind.Number) return value.Number;
        throw Bad(value, name, allowNone ? "a number or None" : "a number");
    }

    public Alpha Alpha(string name)
    {
        if (!TryTake(name, out var value) || value.IsNone) return Quantization.Alpha.None;
        if (value.Kind == SpecValueKind.Number)
            return double.IsFinite(value.Number) && value.Number > 0 ? Quantization.Alpha.Of(value.Number) : throw Bad(value, name, "a positive number (a scale), None, 'auto' or 'auto_po2'");
        if (value.Text == "auto") return Quantization.Alpha.Auto;
        if (value.Text == "auto_po2") return Quantization.Alpha.AutoPo2;
        throw Bad(value, name, "None, a number, 'auto' or 'auto_po2'");
    }

    public TEnum Mode<TEnum>(string name, TEnum fallback) where TEnum : struct, Enum
    {
        if (!TryTake(name, out var value)) return fallback;
        if (value.Kind != SpecValueKind.Number && FixedFormat.TryParseMode(value.Text, out TEnum mode)) return mode;
        throw Bad(value, name, "one of " + string.Join(", ", Enum.GetNames<TEnum>()));
    }

    /// <summary>A QKeras argument that changes nothing here (var_name, use_variables): any value is accepted.</summary>
    public void Ignore(string name) => TryTake(name, out _);

    /// <summary>A QKeras argument HetQ supports only at its default: any other value is an error.</summary>
    public void DefaultOnly(string name, string defaultText, Func<SpecValue, bool> isDefault, string? hint = null)
    {
        if (TryTake(name, out var value) && !isDefault(value))
            throw _lexer.Error(value.Column,
                $"{Quantizer}: {name}={value.Display} is not supported by HetQ (only {defaultText}){(hint is null ? "" : "; " + hint)}");
    }

    /// <summary>Builds the quantizer, turning a constructor's rejection into an error at the argument it names.</summary>
    public IQuantizer Build(Func<IQuantizer> create)
    {
        IQuantizer quantizer;
        try
        {
            quantizer = create(); // reads the arguments, then constructs
        }
        catch (ArgumentException e)
        {
            string parameter = SnakeCase(e.ParamName ?? "");
            int column = _given.TryGetValue(parameter, out var given) ? given.Value.Column : _name.Column;
            string message = e.Message;
            int cut = message.IndexOf(" (Parameter", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
            if (e.ParamName is not null) message = message.Replace(e.ParamName, parameter, StringComparison.Ordinal);
            throw _lexer.Error(column, $"{Quantizer}: {message}");
        }
        foreach (var (name, (_, column)) in _given)
        {
            if (!_read.Contains(name))
                throw _lexer.Error(column, $"{Quantizer}: argument '{name}' is not supported by HetQ");
        }
        return quantizer;
    }

    private bool TryTake(string name, out SpecValue value)
    {
        if (!_parameters.Contains(name))
            throw new InvalidOperationException($"{Quantizer} reads '{name}', which is not among its parameters");
        _read.Add(name);
        if (_given.TryGetValue(name, out var given))
        {
            value = given.Value;
            return true;
        }
        value = default;
        return false;
    }

    private HetQException Bad(SpecValue value, string name, string expected) =>
        _lexer.Error(value.Column, $"{Quantizer}: {name} must be {expected}, not {value.Display}");

    /// <summary>keepNegative → keep_negative, use01 → use_01 (C# parameter names to QKeras's).</summary>
    internal static string SnakeCase(string name)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = i > 0 && (char.IsUpper(c) || (char.IsDigit(c) && !char.IsDigit(name[i - 1])));
            if (boundary) text.Append('_');
            text.Append(char.ToLower(c, CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
