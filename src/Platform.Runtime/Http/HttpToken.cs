namespace Platform.Runtime.Http;

/// <summary>RFC 9110 section 5.6.2 tokens (header field names, methods): visible ASCII except delimiters. The one check.</summary>
public static class HttpToken
{
    public static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsToken(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        foreach (var b in text)
        {
            if (b >= 0x80 || !IsTokenChar((char)b))
            {
                return false;
            }
        }
        return true;
    }
}
