using Microsoft.Extensions.Logging;
using Platform.Testing;

namespace Platform.Oci.Tests.Support;

internal static class ClientFactory
{
    public static (OciClient Client, RecordingHandler Recorder) Create(
        RegistryServer registry, string? username = null, string? password = null, TimeProvider? time = null, ILogger<OciClient>? logger = null) =>
        Create(registry.Url, username, password, time, logger);

    public static (OciClient Client, RecordingHandler Recorder) Create(
        string url, string? username = null, string? password = null, TimeProvider? time = null, ILogger<OciClient>? logger = null,
        TimeSpan? timeout = null)
    {
        var recorder = new RecordingHandler();
        var http = new HttpClient(recorder) { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        var options = new OciRegistryOptions { Url = url, Username = username, Password = password };
        return (new OciClient(http, options, logger, time), recorder);
    }
}
