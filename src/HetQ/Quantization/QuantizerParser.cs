namespace HetQ.Quantization;

/// <summary>Parses the quantizer strings people write in QKeras (`quantized_bits(6,0,alpha=1)`,
/// `ternary()`, `binary`, `quantized_relu(4,2)`) and fixed-point types (`ap_fixed&lt;8,3,RND,SAT&gt;`,
/// `fixed(8,3)`). Positional arguments follow QKeras's parameter order.</summary>
public static class QuantizerParser
{
    /// <summary>The quantizer names <see cref="Parse"/> accepts (plus ap_fixed&lt;...&gt; and ap_ufixed&lt;...&gt;).</summary>
    public static IReadOnlyList<string> Names => QuantizerCatalog.Names;

    /// <summary>Builds the quantizer a spec string describes.</summary>
    /// <exception cref="HetQException">The string is malformed, names an unknown quantizer or argument,
    /// or gives a bad or unsupported value; the message echoes the string with a caret at the bad part.</exception>
    public static IQuantizer Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var lexer = new SpecLexer(spec, "quantizer spec");
        var name = lexer.Peek();
        if (name.Kind != TokenKind.Identifier)
            throw lexer.Error(name, $"expected a quantizer name but found {SpecLexer.Describe(name)}; valid: {ValidNames}");

        if (name.Text == "learned_fixed") return LearnedQuantizer.Parse(spec);

        if (name.Text is "ap_fixed" or "ap_ufixed")
        {
            var format = FixedFormat.ParseFrom(lexer);
            lexer.ExpectEnd();
            return new FixedQuantizer(format);
        }

        lexer.Next();
        if (!QuantizerCatalog.TryGet(name.Text, out var definition))
            throw lexer.Error(name, $"unknown quantizer '{name.Text}'; valid: {ValidNames}");

        var arguments = new QuantizerArguments(lexer, name, definition.Parameters);
        if (lexer.TryAccept('('))
            ReadArguments(lexer, arguments);
        lexer.ExpectEnd();
        return definition.Create(arguments);
    }

    private static string ValidNames => string.Join(", ", QuantizerCatalog.Names) + ", ap_fixed<W,I,...>, ap_ufixed<W,I,...>";

    private static void ReadArguments(SpecLexer lexer, QuantizerArguments arguments)
    {
        bool sawKeyword = false;
        while (!lexer.TryAccept(')'))
        {
            var start = lexer.Peek();
            string? keyword = null;
            if (start.Kind == TokenKind.Identifier && lexer.PeekAt(1).Is('='))
            {
                keyword = start.Text;
                lexer.Next();
                lexer.Next();
                sawKeyword = true;
            }
            else if (sawKeyword)
            {
                throw lexer.Error(start, "positional argument follows keyword argument");
            }
            var value = ReadValue(lexer);
            if (keyword is null) arguments.AddPositional(value);
            else arguments.AddKeyword(keyword, start, value);

            var separator = lexer.Peek();
            if (lexer.TryAccept(',')) continue;
            if (separator.Is(')')) continue;
            throw lexer.Error(separator, $"expected ',' or ')' but found {SpecLexer.Describe(separator)}");
        }
    }

    private static SpecValue ReadValue(SpecLexer lexer)
    {
        var token = lexer.Next();
        switch (token.Kind)
        {
            case TokenKind.Number:
                return new SpecValue(SpecValueKind.Number, token.Text, token.Number, token.Column);
            case TokenKind.String:
                return new SpecValue(SpecValueKind.String, token.Text[1..^1], 0, token.Column);
            case TokenKind.Identifier:
                return new SpecValue(SpecValueKind.Name, token.Text, 0, token.Column);
            case TokenKind.Punctuation when token.Is('-') || token.Is('+'):
                var number = lexer.Next();
                if (number.Kind != TokenKind.Number)
                    throw lexer.Error(number, $"expected a number after '{token.Text}' but found {SpecLexer.Describe(number)}");
                double sign = token.Is('-') ? -1 : 1;
                return new SpecValue(SpecValueKind.Number, token.Text + number.Text, sign * number.Number, token.Column);
            case TokenKind.Punctuation when token.Is('['):
                throw lexer.Error(token, "list arguments (per-axis settings) are not supported");
            default:
                throw lexer.Error(token, $"expected an argument value but found {SpecLexer.Describe(token)}");
        }
    }
}
