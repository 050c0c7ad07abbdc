using System.Net;
using System.Text.Json;
using Platform.Contracts;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// Stands in for the control plane's routing endpoint only (<c>GET /internal/v1/routes?since=R&amp;epoch=E</c> and long
/// poll, as routers use it), serving routing tables a test builds by hand, each published table a new revision sent
/// as a snapshot; request figures routers post are accepted and dropped. It lets router tests feed tables the control
/// plane does not write yet; everything else stays real.
/// </summary>
public sealed class TableServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _epoch = Guid.NewGuid().ToString("N");
    private volatile RoutingChanges _table;
    private long _revision;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TableServer()
    {
        _table = new RoutingChanges(_epoch, 0, null, DateTimeOffset.UtcNow, [], []);
        Port = TestPorts.GetFreeTcpPort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    public void Publish(RoutingTable table)
    {
        _table = new RoutingChanges(_epoch, Interlocked.Increment(ref _revision), null, table.GeneratedAt, table.Routes, []);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            var request = context.Request;
            if (request.Headers["Authorization"] != $"Bearer {PlatformProcesses.RouterToken}")
            {
                context.Response.StatusCode = 401;
            }
            else if (request.HttpMethod == "GET" && request.Url!.AbsolutePath == "/internal/v1/routes")
            {
                var changed = _changed.Task;
                var known = request.QueryString["epoch"] == _epoch && long.TryParse(request.QueryString["since"], out var since) ? since : -1;
                if (known == _table.Revision)
                {
                    var wait = int.TryParse(request.QueryString["wait"], out var seconds) ? seconds : 0;
                    await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(wait), _stop.Token));
                }
                var table = _table;
                if (known == table.Revision)
                {
                    context.Response.StatusCode = 304;
                }
                else
                {
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/json";
                    var bytes = JsonSerializer.SerializeToUtf8Bytes(table, s_json);
                    await context.Response.OutputStream.WriteAsync(bytes);
                }
            }
            else
            {
                context.Response.StatusCode = 204;
            }
        }
        catch (Exception)
        {
            // A router that hung up mid-answer: nothing to do.
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
        }
    }
}
