using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class CgiResponseParserTests
{
    private static CgiResponse Parse(string output)
    {
        var bytes = Encoding.UTF8.GetBytes(output);
        Assert.True(CgiResponseParser.TryParse(bytes, out var response, out var error), error);
        return response;
    }

    private static string Refuse(string output)
    {
        Assert.False(CgiResponseParser.TryParse(Encoding.UTF8.GetBytes(output), out var response, out var error));
        Assert.Null(response);
        return error;
    }

    private static string Body(string output, CgiResponse response) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(output).AsSpan(response.BodyOffset));

    [Theory]
    [InlineData("Content-Type: text/plain\n\nhello\n")]
    [InlineData("Content-Type: text/plain\r\n\r\nhello\n")]
    [InlineData("Content-Type:text/plain\r\n\nhello\n")]
    public void A_content_type_and_body_parse_with_either_line_ending(string output)
    {
        var response = Parse(output);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal([new("Content-Type", "text/plain")], response.Headers);
        Assert.Equal("hello\n", Body(output, response));
    }

    [Fact]
    public void Status_sets_the_status_code_and_is_not_forwarded_as_a_header()
    {
        var response = Parse("Status: 404 Not Found\nContent-Type: text/plain\n\nmissing");

        Assert.Equal(404, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Status");
    }

    [Fact]
    public void Status_alone_is_a_complete_response()
    {
        Assert.Equal(204, Parse("Status: 204\n\n").StatusCode);
    }

    [Fact]
    public void Location_without_status_is_a_302_redirect()
    {
        var response = Parse("Location: /elsewhere\n\n");

        Assert.Equal(302, response.StatusCode);
        Assert.Equal([new("Location", "/elsewhere")], response.Headers);
    }

    [Fact]
    public void Location_with_a_status_keeps_that_status()
    {
        Assert.Equal(301, Parse("Status: 301 Moved Permanently\nLocation: /new\n\n").StatusCode);
    }

    [Fact]
    public void A_response_without_content_type_location_or_status_is_refused_with_the_reason()
    {
        var error = Refuse("X-Only: this\n\nbody");

        Assert.Contains("none of Content-Type, Location or Status", error);
        Assert.Contains("X-Only", error);
    }

    [Fact]
    public void A_body_without_a_header_block_is_refused_quoting_the_first_line()
    {
        var error = Refuse("just a body without headers\n");

        Assert.Contains("'just a body without headers'", error);
        Assert.Contains("line 1", error);
    }

    [Fact]
    public void Empty_output_is_refused()
    {
        Assert.Contains("nothing", Refuse(""));
    }

    [Theory]
    [InlineData("Content-Type: text/plain\rSet-Cookie: stolen=1\n\n", "0x0D")]
    [InlineData("Content-Type: text/plain\nX-Bad: a\u0000b\n\n", "0x00")]
    [InlineData("Content-Type: text/plain\nX-Bad: caf\u00e9\n\n", "0xC3")]
    [InlineData("Content-Type: text/plain\nX-Bad: a\u007fb\n\n", "0x7F")]
    public void Header_values_with_control_or_non_ascii_bytes_are_refused(string output, string quotedByte)
    {
        var error = Refuse(output);

        Assert.Contains(quotedByte, error);
    }

    [Theory]
    [InlineData("Bad Name: x\nContent-Type: text/plain\n\n", "Bad Name")]
    [InlineData("X(y): x\nContent-Type: text/plain\n\n", "X(y)")]
    [InlineData("X-\u00e9: x\nContent-Type: text/plain\n\n", "X-\\xC3\\xA9")]
    public void Header_names_that_are_not_tokens_are_refused_and_quoted(string output, string quoted)
    {
        Assert.Contains($"'{quoted}'", Refuse(output));
    }

    [Theory]
    [InlineData("Connection")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Keep-Alive")]
    [InlineData("Upgrade")]
    [InlineData("TE")]
    [InlineData("Trailer")]
    [InlineData("Proxy-Authenticate")]
    [InlineData("proxy-connection")]
    [InlineData("Content-Length")]
    public void Hop_by_hop_headers_and_content_length_are_dropped(string name)
    {
        var response = Parse($"Content-Type: text/plain\n{name}: something\nX-Kept: yes\n\nbody");

        Assert.Equal([new("Content-Type", "text/plain"), new("X-Kept", "yes")], response.Headers);
        Assert.Equal([name], response.DroppedHeaders);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("99")]
    [InlineData("2000")]
    [InlineData("600 Too High")]
    [InlineData("199 Informational")]
    [InlineData("")]
    [InlineData("20x OK")]
    public void A_bad_status_is_refused_quoting_it(string status)
    {
        var error = Refuse($"Status: {status}\nContent-Type: text/plain\n\n");

        Assert.Contains($"Status header '{status}'", error);
    }

    [Fact]
    public void Two_status_headers_are_refused()
    {
        Assert.Contains("more than one Status", Refuse("Status: 200 OK\nStatus: 404 Not Found\n\n"));
    }

    [Fact]
    public void Text_after_the_blank_line_is_body_even_when_it_looks_like_headers()
    {
        const string output = "Content-Type: text/plain\n\nStatus: 500\nLocation: /x\n\nmore\n";

        var response = Parse(output);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("Status: 500\nLocation: /x\n\nmore\n", Body(output, response));
    }

    [Fact]
    public void Output_that_ends_after_the_headers_is_a_response_without_a_body()
    {
        const string output = "Content-Type: text/plain\n";

        var response = Parse(output);

        Assert.Equal(output.Length, response.BodyOffset);
    }

    [Fact]
    public void A_header_block_larger_than_the_limit_is_refused()
    {
        var output = "Content-Type: text/plain\nX-Big: " + new string('a', CgiResponseParser.MaxHeaderBytes) + "\n\n";

        Assert.Contains("longer than", Refuse(output));
    }

    [Fact]
    public void Header_values_are_trimmed_of_surrounding_whitespace()
    {
        Assert.Equal([new("Content-Type", "text/html; charset=utf-8")], Parse("Content-Type: \t text/html; charset=utf-8 \t\n\n").Headers);
    }
}
