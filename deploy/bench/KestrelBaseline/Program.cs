using System.Text;

// Answers every request with what tests/apps/hello.c writes for it ("Hello from GET /?\n", text/plain),
// so wrk sees the same status, headers and body as from the router.
var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.AddServerHeader = false);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:8280");
var app = builder.Build();
app.Run(context =>
{
    var request = context.Request;
    var body = Encoding.UTF8.GetBytes($"Hello from {request.Method} {request.Path.Value}?{request.QueryString.Value?.TrimStart('?')}\n");
    context.Response.ContentType = "text/plain";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body).AsTask();
});
app.Run();
