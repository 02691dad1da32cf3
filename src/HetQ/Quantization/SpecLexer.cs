using System.Globalization;
using System.Text;

namespace HetQ.Quantization;

internal enum TokenKind { Identifier, Number, String, Punctuation, End }

/// <summary>One token of a spec string; <see cref="Column"/> is its 0-based start, for error carets.</summary>
internal readonly record struct SpecToken(TokenKind Kind, string Text, int Column, double Number = 0)
{
    public bool Is(char punctuation) => Kind == TokenKind.Punctuation && Text[0] == punctuation;
}

/// <summary>Splits quantizer and fixed-point spec strings into Python-like tokens (names, numbers,
/// quoted strings, punctuation) and builds the error messages that point at a column.</summary>
internal sealed class SpecLexer
{
    private readonly List<SpecToken> _tokens = [];
    private int _next;

    public SpecLexer(string text, string what)
    {
        Text = text;
        What = what;
        Tokenize();
    }

    public string Text { get; }

    /// <summary>What the text is, for messages: "quantizer spec", "fixed-point type".</summary>
    public string What { get; }

    public SpecToken Peek() => _tokens[_next];

    /// <summary>The token <paramref name="ahead"/> places after the next one (the End token past the end).</summary>
    public SpecToken PeekAt(int ahead) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];

    public SpecToken Next()
    {
        var token = _tokens[_next];
        if (token.Kind != TokenKind.End) _next++;
        return token;
    }

    public bool TryAccept(char punctuation)
    {
        if (!Peek().Is(punctuation)) return false;
        _next++;
        return true;
    }

    public SpecToken Expect(char punctuation)
    {
        var token = Next();
        if (!token.Is(punctuation))
            throw Error(token, $"expected '{punctuation}' but found {Describe(token)}");
        return token;
    }

    public void ExpectEnd()
    {
        var token = Peek();
        if (token.Kind != TokenKind.End)
            throw Error(token, $"unexpected {Describe(token)} after the end of the {What}");
    }

    /// <summary>An integer literal, optionally signed.</summary>
    public int NextInteger(string what)
    {
        var first = Peek();
        double sign = 1;
        if (first.Is('-') || first.Is('+')) { sign = first.Is('-') ? -1 : 1; Next(); }
        var token = Next();
        double value = sign * token.Number;
        if (token.Kind != TokenKind.Number || value != Math.Floor(value) || Math.Abs(value) > int.MaxValue)
            throw Error(token.Kind == TokenKind.Number ? first : token, $"expected an integer {what} but found {Describe(token)}");
        return (int)value;
    }

    public static string Describe(SpecToken token) => token.Kind switch
    {
        TokenKind.End => "the end of the text",
        TokenKind.String => $"the string {token.Text}",
        _ => $"'{token.Text}'",
    };

    /// <summary>A user-input error: the message, then the text echoed with a caret under the column.</summary>
    public HetQException Error(SpecToken token, string message) => Error(token.Column, message);

    public HetQException Error(int column, string message)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"bad {What} \"{Text}\" at column {column + 1}: {message}");
        text.Append('\n').Append("  ").Append(Text);
        text.Append('\n').Append("  ").Append(' ', column).Append('^');
        return new HetQException(text.ToString());
    }

    private void Tokenize()
    {
        string s = Text;
        int i = 0;
        while (true)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (i >= s.Length)
            {
                _tokens.Add(new SpecToken(TokenKind.End, "", s.Length));
                return;
            }
            char c = s[i];
            int start = i;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                _tokens.Add(new SpecToken(TokenKind.Identifier, s[start..i], start));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])))
            {
                while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
                if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
                {
                    int save = i++;
                    if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                    if (i < s.Length && char.IsAsciiDigit(s[i]))
                        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                    else i = save;
                }
                string literal = s[start..i];
                if (!double.TryParse(literal, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                        CultureInfo.InvariantCulture, out double number))
                    throw Error(start, $"'{literal}' is not a number");
                _tokens.Add(new SpecToken(TokenKind.Number, literal, start, number));
            }
            else if (c == '\'' || c == '"')
            {
                int end = s.IndexOf(c, i + 1);
                if (end < 0) throw Error(start, "this string is not closed");
                i = end + 1;
                _tokens.Add(new SpecToken(TokenKind.String, s[start..i], start));
            }
            else if ("(),=<>[]-+".Contains(c, StringComparison.Ordinal))
            {
                i++;
                _tokens.Add(new SpecToken(TokenKind.Punctuation, c.ToString(), start));
            }
            else
            {
                throw Error(start, $"unexpected character '{c}'");
            }
        }
    }
}
