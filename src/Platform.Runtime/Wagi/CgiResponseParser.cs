using System.Diagnostics.CodeAnalysis;
using System.Text;
using Platform.Runtime.Http;

namespace Platform.Runtime;

/// <summary>A CGI response split into status, validated headers and the offset where the body starts.</summary>
public sealed class CgiResponse
{
    internal CgiResponse(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, int bodyOffset, IReadOnlyList<string> droppedHeaders)
    {
        StatusCode = statusCode;
        Headers = headers;
        BodyOffset = bodyOffset;
        DroppedHeaders = droppedHeaders;
    }

    public int StatusCode { get; }

    /// <summary>Headers to send, in the module's order; Status, hop-by-hop and Content-Length are not among them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>Index of the first body byte in the module's output.</summary>
    public int BodyOffset { get; }

    /// <summary>Names of headers the module wrote that are never forwarded (hop-by-hop, Content-Length).</summary>
    public IReadOnlyList<string> DroppedHeaders { get; }
}

/// <summary>
/// Parses a module's stdout as a CGI response (RFC 3875 section 6): header lines, a blank line, the body.
/// Lines may end in "\n" or "\r\n". Header names must be HTTP tokens and values printable ASCII, so a module
/// cannot smuggle extra lines or a second response into the router's output.
/// </summary>
public static class CgiResponseParser
{
    public const int MaxHeaderBytes = 64 * 1024;
    public const int MaxHeaderCount = 100;

    // Per-hop headers belong to one connection; the server sets them. Content-Length is the server's too:
    // it frames the body it actually sends.
    private static bool IsDropped(string name) => HopByHopHeaders.Contains(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase);

    public static bool TryParse(ReadOnlySpan<byte> output, [NotNullWhen(true)] out CgiResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        if (output.IsEmpty)
        {
            error = "the module wrote nothing to stdout; a CGI response needs at least a Content-Type, Location or Status header";
            return false;
        }

        var headers = new List<KeyValuePair<string, string>>();
        List<string>? dropped = null;
        int? status = null;
        var hasContentType = false;
        var hasLocation = false;
        var position = 0;
        var lineNumber = 0;
        var bodyOffset = -1;

        while (position < output.Length)
        {
            lineNumber++;
            var rest = output[position..];
            var newline = rest.IndexOf((byte)'\n');
            var lineEnd = newline < 0 ? rest.Length : newline;
            if (position + lineEnd > MaxHeaderBytes)
            {
                error = $"the CGI header block is longer than {MaxHeaderBytes} bytes or has no blank line ending it";
                return false;
            }
            var line = rest[..lineEnd];
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }
            var next = newline < 0 ? output.Length : position + newline + 1;

            if (line.IsEmpty)
            {
                bodyOffset = next;
                break;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                error = $"line {lineNumber} of the module's output, '{Quote(line)}', is not a 'Name: value' CGI header (is the header block or its blank line missing?)";
                return false;
            }
            var nameBytes = line[..colon];
            if (!HttpToken.IsToken(nameBytes))
            {
                error = $"header name '{Quote(nameBytes)}' on line {lineNumber} contains characters not allowed in an HTTP header name";
                return false;
            }
            var valueBytes = line[(colon + 1)..].Trim(" \t"u8);
            var badIndex = IndexOfInvalidValueByte(valueBytes);
            if (badIndex >= 0)
            {
                error = $"the value of header '{Encoding.ASCII.GetString(nameBytes)}' on line {lineNumber} contains byte 0x{valueBytes[badIndex]:X2} (control or non-ASCII): '{Quote(valueBytes)}'";
                return false;
            }
            var name = Encoding.ASCII.GetString(nameBytes);
            var value = Encoding.ASCII.GetString(valueBytes);

            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                if (status is not null)
                {
                    error = $"the module wrote more than one Status header (second one on line {lineNumber}: '{value}')";
                    return false;
                }
                if (!TryParseStatus(value, out var code))
                {
                    error = $"Status header '{value}' on line {lineNumber} is not a three-digit HTTP status between 200 and 599 followed by an optional reason";
                    return false;
                }
                status = code;
            }
            else if (IsDropped(name) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
            {
                (dropped ??= []).Add(name);
            }
            else
            {
                if (headers.Count == MaxHeaderCount)
                {
                    error = $"the module wrote more than {MaxHeaderCount} headers";
                    return false;
                }
                hasContentType |= name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase);
                hasLocation |= name.Equals("Location", StringComparison.OrdinalIgnoreCase);
                headers.Add(new(name, value));
            }
            position = next;
        }

        // Output that ends right after complete header lines is a response without a body.
        if (bodyOffset < 0)
        {
            bodyOffset = output.Length;
        }

        if (status is null && !hasContentType && !hasLocation)
        {
            error = "the module's CGI response has none of Content-Type, Location or Status, so there is no way to tell what it meant"
                + (headers.Count > 0 ? $" (headers written: {string.Join(", ", headers.Select(h => h.Key))})" : "");
            return false;
        }

        // RFC 3875 6.2.3: a Location without a Status is a client redirect.
        response = new CgiResponse(status ?? (hasLocation ? 302 : 200), headers, bodyOffset, dropped ?? (IReadOnlyList<string>)[]);
        error = null;
        return true;
    }

    private static bool TryParseStatus(string value, out int code)
    {
        code = 0;
        if (value.Length < 3 || !char.IsAsciiDigit(value[0]) || !char.IsAsciiDigit(value[1]) || !char.IsAsciiDigit(value[2]))
        {
            return false;
        }
        if (value.Length > 3 && value[3] is not (' ' or '\t'))
        {
            return false;
        }
        code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        return code is >= 200 and <= 599;
    }

    private static int IndexOfInvalidValueByte(ReadOnlySpan<byte> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if ((b < 0x20 && b != (byte)'\t') || b >= 0x7F)
            {
                return i;
            }
        }
        return -1;
    }

    // Errors quote what the module wrote, escaped so the log line itself cannot be split or forged.
    private static string Quote(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, 120)])
        {
            if (b is >= 0x20 and < 0x7F)
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        if (bytes.Length > 120)
        {
            builder.Append("...");
        }
        return builder.ToString();
    }
}
