using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Platform.Contracts;
using Platform.Router.Routing;
using Platform.Router.Serving;
using Platform.Runtime.Outbound;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ComponentRoutingTests
{
    private static RouteEntry Entry(params ComponentEntry[] components) =>
        new("app", 2, components[0].ModuleDigest, "apps/app", "r/apps/app:v2", 64L * 1024 * 1024, 5000, new Dictionary<string, string> { ["SHARED"] = "app" },
            Components: components, HttpRoutes: [.. components.Select(c => new HttpRouteEntry(c.Id == "site" ? "/..." : "/api/...", c.Id))]);

    private static ComponentEntry Component(string id, string kind, string? entrypoint = null) =>
        new(id, "sha256:" + new string(id[0], 64), kind, entrypoint, entrypoint is null ? null : "${SCRIPT_NAME}",
            new Dictionary<string, string> { ["OWN"] = id, ["SHARED"] = "component" }, [], []);

    [Fact]
    public void A_wasi_http_component_and_a_wagi_module_route_side_by_side_and_only_the_module_keeps_wagi_settings()
    {
        var routing = AppRouting.Build(Entry(Component("api", "http", entrypoint: "ignored"), Component("site", "wagi", entrypoint: "serve")), 1024, 1024);

        Assert.Null(routing.Error);
        var api = routing.Components.Single(c => c.Id == "api");
        var site = routing.Components.Single(c => c.Id == "site");
        Assert.True(api.IsHttpComponent);
        Assert.False(site.IsHttpComponent);
        Assert.Equal((null, null), (api.Entrypoint, api.ArgvTemplate));
        Assert.Equal(("serve", "${SCRIPT_NAME}"), (site.Entrypoint, site.ArgvTemplate));
        // The component's environment, then the app's variables, which win on the same name.
        Assert.Equal([new("OWN", "api"), new("SHARED", "component"), new("SHARED", "app")], api.Variables);
        Assert.Equal("api", routing.Routes[0].Component.Id);
    }

    [Fact]
    public void The_incoming_request_keeps_the_raw_target_and_every_header_value_and_spin_headers_come_from_the_router_only()
    {
        var routing = AppRouting.Build(Entry(Component("api", "http"), Component("site", "wagi")), 1024, 1024);
        var resolved = new ResolvedRoutes([.. routing.Routes.Select(r => new ResolvedRoute(r.Pattern, r.Component, null, null))]);
        var context = new DefaultHttpContext();
        context.Request.Method = "PUT";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("app.apps.localhost", 8080);
        context.Request.Path = "/api/a b/c";
        context.Request.QueryString = new QueryString("?x=1&y=%2F");
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "/api/a%20b/c?x=1&y=%2F";
        context.Request.Headers["X-Many"] = new Microsoft.Extensions.Primitives.StringValues(["one", "two"]);
        context.Request.Headers["Spin-Path-Info"] = "/forged";
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        context.Connection.RemotePort = 4567;
        Assert.True(resolved.TryMatch("/api/a b/c", out var route, out var pathInfo));

        var request = ComponentRequests.From(context, routing.Entry, new RouteMatch(route, pathInfo), "body"u8.ToArray(), OutboundPolicy.DenyAll);

        Assert.Equal(("PUT", "http", "app.apps.localhost:8080", "/api/a%20b/c?x=1&y=%2F"), (request.Method, request.Scheme, request.Authority, request.PathWithQuery));
        Assert.Equal(["one", "two"], request.Headers.Where(h => h.Key == "X-Many").Select(h => h.Value));
        Assert.Equal(["/a b/c"], request.Headers.Where(h => h.Key.Equals("spin-path-info", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value));
        Assert.Contains(new KeyValuePair<string, string>("spin-matched-route", "/api/..."), request.Headers);
        Assert.Contains(new KeyValuePair<string, string>("spin-component-route", "/api"), request.Headers);
        Assert.Contains(new KeyValuePair<string, string>("spin-client-addr", "10.1.2.3:4567"), request.Headers);
        Assert.Equal("body", System.Text.Encoding.UTF8.GetString(request.Body.Span));
        Assert.Contains(new KeyValuePair<string, string>("OWN", "api"), request.Environment);
        Assert.Equal("app", request.AppName);
    }

    [Theory]
    [InlineData("Transfer-Encoding", true)]
    [InlineData("connection", true)]
    [InlineData("Content-Length", true)]
    [InlineData("content-type", false)]
    [InlineData("x-custom", false)]
    public void Framing_headers_of_a_components_response_are_left_to_the_server(string name, bool dropped) =>
        Assert.Equal(dropped, ComponentRequests.IsHopByHop(name));
}
