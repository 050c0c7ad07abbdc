using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class WagiEnvironmentTests
{
    private static WagiRequest Request(Func<WagiRequest, WagiRequest>? change = null)
    {
        var request = new WagiRequest
        {
            Method = "POST",
            PathInfo = "/a b",
            RawPathInfo = "/a%20b",
            QueryString = "x=1&y=2",
            ScriptName = "/",
            ServerName = "hello.apps.localhost",
            ServerPort = 8080,
            ServerProtocol = "HTTP/1.1",
            ContentType = "text/plain",
            RemoteAddress = "127.0.0.1",
            Headers = [new("User-Agent", "curl/8"), new("X-Custom-Thing", "v")],
            Body = Encoding.UTF8.GetBytes("12345"),
            MatchedRoute = "/...",
            FullUrl = "http://hello.apps.localhost:8080/a%20b?x=1&y=2",
        };
        return change is null ? request : change(request);
    }

    private static Dictionary<string, string> Variables(WagiRequest request) =>
        WagiEnvironment.Build(request).Variables.ToDictionary(v => v.Key, v => v.Value);

    [Fact]
    public void Request_variables_follow_the_WAGI_names()
    {
        var env = Variables(Request());

        Assert.Equal("POST", env["REQUEST_METHOD"]);
        Assert.Equal("/a b", env["PATH_INFO"]);
        Assert.Equal("/a%20b", env["X_RAW_PATH_INFO"]);
        Assert.Equal("x=1&y=2", env["QUERY_STRING"]);
        Assert.Equal("/", env["SCRIPT_NAME"]);
        Assert.Equal("hello.apps.localhost", env["SERVER_NAME"]);
        Assert.Equal("8080", env["SERVER_PORT"]);
        Assert.Equal("HTTP/1.1", env["SERVER_PROTOCOL"]);
        Assert.Equal(WagiEnvironment.ServerSoftware, env["SERVER_SOFTWARE"]);
        Assert.Equal("CGI/1.1", env["GATEWAY_INTERFACE"]);
        Assert.Equal("text/plain", env["CONTENT_TYPE"]);
        Assert.Equal("5", env["CONTENT_LENGTH"]);
        Assert.Equal("127.0.0.1", env["REMOTE_ADDR"]);
        Assert.Equal("127.0.0.1", env["REMOTE_HOST"]);
        Assert.Equal("/...", env["X_MATCHED_ROUTE"]);
        Assert.Equal("http://hello.apps.localhost:8080/a%20b?x=1&y=2", env["X_FULL_URL"]);
    }

    [Fact]
    public void Headers_become_HTTP_variables_with_underscores()
    {
        var env = Variables(Request());

        Assert.Equal("curl/8", env["HTTP_USER_AGENT"]);
        Assert.Equal("v", env["HTTP_X_CUSTOM_THING"]);
    }

    [Fact]
    public void Authorization_connection_and_proxy_headers_are_never_passed()
    {
        var env = Variables(Request(r => new WagiRequest
        {
            Method = r.Method,
            Headers =
            [
                new("Authorization", "Bearer secret"), new("authorization", "Basic x"), new("Proxy-Authorization", "Basic y"),
                new("Connection", "keep-alive"), new("Proxy", "http://evil.example"), new("Accept", "*/*"),
            ],
        }));

        Assert.DoesNotContain(env, v => v.Key is "HTTP_AUTHORIZATION" or "HTTP_PROXY_AUTHORIZATION" or "HTTP_CONNECTION" or "HTTP_PROXY");
        Assert.DoesNotContain(env, v => v.Value.Contains("secret"));
        Assert.Equal("*/*", env["HTTP_ACCEPT"]);
    }

    [Fact]
    public void Repeated_headers_are_joined_with_a_comma()
    {
        var env = Variables(new WagiRequest { Method = "GET", Headers = [new("Accept", "a"), new("X-Other", "o"), new("accept", "b")] });

        Assert.Equal("a, b", env["HTTP_ACCEPT"]);
    }

    [Fact]
    public void App_variables_come_first_and_request_variables_overwrite_them()
    {
        var built = WagiEnvironment.Build(new WagiRequest
        {
            Method = "GET",
            AppVariables = [new("GREETING", "hi"), new("REQUEST_METHOD", "FAKE"), new("HTTP_ACCEPT", "app")],
            Headers = [new("Accept", "text/html")],
        });

        Assert.Equal(new KeyValuePair<string, string>("GREETING", "hi"), built.Variables[0]);
        var env = built.Variables.ToDictionary(v => v.Key, v => v.Value);
        Assert.Equal("GET", env["REQUEST_METHOD"]);
        Assert.Equal("text/html", env["HTTP_ACCEPT"]);
        Assert.Equal(built.Variables.Count, env.Count);
    }

    [Fact]
    public void Argv_is_the_script_name_followed_by_the_query_parts()
    {
        var built = WagiEnvironment.Build(Request(r => new WagiRequest { Method = "GET", ScriptName = "/app", QueryString = "a=1&b&&c=%20" }));

        Assert.Equal(["/app", "a=1", "b", "", "c=%20"], built.Arguments);
    }

    [Fact]
    public void Argv_is_only_the_script_name_without_a_query()
    {
        var built = WagiEnvironment.Build(new WagiRequest { Method = "GET", ScriptName = "/" });

        Assert.Equal(["/"], built.Arguments);
    }

    [Fact]
    public void Content_length_is_the_length_of_the_body_given_as_stdin()
    {
        var env = Variables(new WagiRequest { Method = "GET", Body = new byte[3] });

        Assert.Equal("3", env["CONTENT_LENGTH"]);
        Assert.Equal("", env["CONTENT_TYPE"]);
    }

    [Fact]
    public void A_NUL_character_in_a_value_is_refused_with_the_variable_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => WagiEnvironment.Build(new WagiRequest { Method = "GET", PathInfo = "/a\0b" }));

        Assert.Contains("PATH_INFO", ex.Message);
        Assert.Contains("/a\\0b", ex.Message);
    }

    [Fact]
    public void A_header_name_that_would_inject_a_variable_assignment_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => WagiEnvironment.Build(new WagiRequest { Method = "GET", Headers = [new("X=PATH_INFO", "/x")] }));

        Assert.Contains("HTTP_X=PATH_INFO", ex.Message);
    }

    [Fact]
    public void Header_values_with_newlines_stay_inside_their_own_variable()
    {
        var built = WagiEnvironment.Build(new WagiRequest { Method = "GET", Headers = [new("X-A", "1\nPATH_INFO=/evil")] });

        var env = built.Variables.ToDictionary(v => v.Key, v => v.Value);
        Assert.Equal("1\nPATH_INFO=/evil", env["HTTP_X_A"]);
        Assert.Equal("", env["PATH_INFO"]);
    }
}
