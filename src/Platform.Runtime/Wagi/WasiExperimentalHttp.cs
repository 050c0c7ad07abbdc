using System.Buffers.Binary;
using System.Text;
using Platform.Runtime.Http;
using Platform.Runtime.Outbound;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Per-request state of the <c>wasi_experimental_http</c> functions: the policy and client calls go through, the
/// open response handles and the instance's call budget. Reached from <see cref="WasiContext.Outbound"/>.
/// </summary>
internal sealed class WagiOutboundState(OutboundHttpClient? client, OutboundPolicy policy, Action<string>? appLog)
{
    private readonly Dictionary<uint, OpenResponse> _responses = [];
    private uint _nextHandle = 1;

    public OutboundHttpClient? Client { get; } = client;
    public OutboundPolicy Policy { get; } = policy;
    public Action<string>? AppLog { get; } = appLog;
    public OutboundCallBudget Budget { get; } = new(client?.Options.MaxCallsPerInstance ?? 8);

    public sealed class OpenResponse(OutboundResponse response)
    {
        public OutboundResponse Response { get; } = response;
        public int Position { get; set; }
    }

    /// <summary>Handles are never reused within a request, so a stale handle is always invalid_handle.</summary>
    public uint Add(OutboundResponse response)
    {
        var handle = _nextHandle++;
        _responses[handle] = new OpenResponse(response);
        return handle;
    }

    public OpenResponse? Get(int handle) => _responses.GetValueOrDefault((uint)handle);

    public bool Close(int handle)
    {
        if (!_responses.Remove((uint)handle))
        {
            return false;
        }
        Budget.Release();
        return true;
    }

    public void Log(string line)
    {
        try
        {
            AppLog?.Invoke(line);
        }
        catch (Exception)
        {
            // Best effort, like stderr.
        }
    }
}

/// <summary>
/// The deislabs <c>wasi_experimental_http</c> ABI (its witx and raw.rs are the reference): <c>req</c>,
/// <c>close</c>, <c>header_get</c>, <c>headers_get_all</c> and <c>body_read</c>, with its error codes. Every
/// pointer and length is bounds-checked against the guest's memory; a bad one is memory_access_error, a bad handle
/// invalid_handle. Calls go through <see cref="OutboundHttpClient"/> under the request's policy.
/// </summary>
internal static unsafe class WasiExperimentalHttp
{
    public const string ModuleName = "wasi_experimental_http";

    // http_error from the witx, in order.
    public const int Success = 0;
    public const int InvalidHandle = 1;
    public const int MemoryNotFound = 2;
    public const int MemoryAccessError = 3;
    public const int BufferTooSmall = 4;
    public const int HeaderNotFound = 5;
    public const int Utf8Error = 6;
    public const int DestinationNotAllowed = 7;
    public const int InvalidMethod = 8;
    public const int InvalidEncoding = 9;
    public const int InvalidUrl = 10;
    public const int RequestError = 11;
    public const int RuntimeError = 12;
    public const int TooManySessions = 13;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Functions and signatures (the validator's table; see <see cref="WasiPreview1.Signatures"/> for the notation).</summary>
    public static IReadOnlyDictionary<string, string> Signatures { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["req"] = "iiiiiiiiii>i",
        ["close"] = "i>i",
        ["header_get"] = "iiiiii>i",
        ["headers_get_all"] = "iiii>i",
        // An older raw.rs named it without the 's'; accepting both costs nothing.
        ["header_get_all"] = "iiii>i",
        ["body_read"] = "iiii>i",
    };

    public static void Define(Linker linker)
    {
        const string M = ModuleName;
        linker.DefineFunction(M, "req", (CallerFunc<int, int, int, int, int, int, int, int, int, int, int>)Req);
        linker.DefineFunction(M, "close", (CallerFunc<int, int>)Close);
        linker.DefineFunction(M, "header_get", (CallerFunc<int, int, int, int, int, int, int>)HeaderGet);
        linker.DefineFunction(M, "headers_get_all", (CallerFunc<int, int, int, int, int>)HeadersGetAll);
        linker.DefineFunction(M, "header_get_all", (CallerFunc<int, int, int, int, int>)HeadersGetAll);
        linker.DefineFunction(M, "body_read", (CallerFunc<int, int, int, int, int>)BodyRead);
    }

    private static WasiContext Ctx(Caller caller) => (WasiContext)caller.GetData()!;

    private static WagiOutboundState State(WasiContext ctx) =>
        ctx.Outbound ??= new WagiOutboundState(null, OutboundPolicy.DenyAll, null);

    private static bool TryGuest(Caller caller, WasiContext ctx, out GuestMemory guest)
    {
        var memory = ctx.Memory ??= caller.GetMemory("memory");
        if (memory is null)
        {
            guest = default;
            return false;
        }
        guest = new GuestMemory((byte*)memory.GetPointer(), (ulong)memory.GetLength());
        return true;
    }

    private static int Req(Caller caller, int urlPtr, int urlLen, int methodPtr, int methodLen, int headersPtr, int headersLen,
        int bodyPtr, int bodyLen, int statusPtr, int handlePtr)
    {
        var ctx = Ctx(caller);
        var state = State(ctx);
        if (!TryGuest(caller, ctx, out var guest))
        {
            return MemoryNotFound;
        }
        if (!guest.TrySpan(urlPtr, urlLen, out var urlBytes) || !guest.TrySpan(methodPtr, methodLen, out var methodBytes)
            || !guest.TrySpan(headersPtr, headersLen, out var headerBytes) || !guest.TrySpan(bodyPtr, bodyLen, out var bodyBytes)
            || !guest.TrySpan(statusPtr, 2, out _) || !guest.TrySpan(handlePtr, 4, out _))
        {
            return MemoryAccessError;
        }
        if (!TryDecode(urlBytes, out var urlText) || !TryDecode(methodBytes, out var method) || !TryDecode(headerBytes, out var headerText))
        {
            return Utf8Error;
        }
        if (state.Budget.Open >= state.Budget.Max)
        {
            state.Log($"[outbound] refused: {state.Budget.Max} responses are open in this request (too_many_sessions); close one first");
            return TooManySessions;
        }
        // CONNECT would turn an allowed host into a tunnel to anywhere; it is not a request an API needs.
        if (!HttpToken.IsToken(method) || method.Length > 32 || method.Equals("CONNECT", StringComparison.OrdinalIgnoreCase))
        {
            state.Log($"[outbound] refused: '{Printable(method)}' is not an HTTP method");
            return InvalidMethod;
        }
        if (!TryParseHeaders(headerText, out var headers, out var headerError))
        {
            state.Log($"[outbound] refused: {headerError}");
            return InvalidEncoding;
        }
        if (!OutboundUrl.TryParse(urlText, out var url, out var urlError))
        {
            state.Log($"[outbound] refused: {urlError}");
            return InvalidUrl;
        }
        if (state.Client is null)
        {
            // No client was configured for this executor: nothing can be allowed.
            state.Log($"[outbound] denied {method} {url!.Origin}: outbound HTTP is not enabled on this host");
            return DestinationNotAllowed;
        }
        if (!state.Budget.TryAcquire())
        {
            return TooManySessions;
        }

        // The guest cannot run while this call waits, but its memory may be grown (moved) by the time we write
        // back, so the body is copied and pointers are re-resolved below.
        var request = new OutboundRequest { Method = method, Url = url!, Headers = headers, Body = bodyBytes.ToArray() };
        var result = state.Client.Send(request, state.Policy, ctx.DeadlineTimestamp, ctx.CancellationToken, state.AppLog);
        if (!result.IsSuccess)
        {
            state.Budget.Release();
            switch (result.Status)
            {
                case OutboundStatus.Timeout:
                    ctx.TimedOut = true;
                    throw new GuestStoppedException("the wall-time limit passed during an outbound HTTP call");
                case OutboundStatus.Cancelled:
                    ctx.Cancelled = true;
                    throw new GuestStoppedException("the request was cancelled during an outbound HTTP call");
                case OutboundStatus.DestinationNotAllowed:
                    return DestinationNotAllowed;
                case OutboundStatus.InvalidRequest:
                    return InvalidEncoding;
                default:
                    return RequestError;
            }
        }

        if (!TryGuest(caller, ctx, out guest) || !guest.TrySpan(statusPtr, 2, out var status) || !guest.TrySpan(handlePtr, 4, out var handleOut))
        {
            state.Budget.Release();
            return MemoryAccessError;
        }
        var response = result.Response!;
        BinaryPrimitives.WriteUInt16LittleEndian(status, (ushort)response.StatusCode);
        BinaryPrimitives.WriteUInt32LittleEndian(handleOut, state.Add(response));
        return Success;
    }

    private static int Close(Caller caller, int handle) =>
        State(Ctx(caller)).Close(handle) ? Success : InvalidHandle;

    private static int HeaderGet(Caller caller, int handle, int namePtr, int nameLen, int bufPtr, int bufLen, int writtenPtr)
    {
        var ctx = Ctx(caller);
        if (State(ctx).Get(handle) is not { } open)
        {
            return InvalidHandle;
        }
        if (!TryGuest(caller, ctx, out var guest))
        {
            return MemoryNotFound;
        }
        if (!guest.TrySpan(namePtr, nameLen, out var nameBytes))
        {
            return MemoryAccessError;
        }
        if (!TryDecode(nameBytes, out var name))
        {
            return Utf8Error;
        }
        string? value = null;
        foreach (var (key, v) in open.Response.Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                break;
            }
        }
        if (value is null)
        {
            return HeaderNotFound;
        }
        return WriteOut(guest, Encoding.UTF8.GetBytes(value), bufPtr, bufLen, writtenPtr);
    }

    private static int HeadersGetAll(Caller caller, int handle, int bufPtr, int bufLen, int writtenPtr)
    {
        var ctx = Ctx(caller);
        if (State(ctx).Get(handle) is not { } open)
        {
            return InvalidHandle;
        }
        if (!TryGuest(caller, ctx, out var guest))
        {
            return MemoryNotFound;
        }
        var builder = new StringBuilder();
        foreach (var (key, value) in open.Response.Headers)
        {
            builder.Append(key).Append(':').Append(value).Append('\n');
        }
        return WriteOut(guest, Encoding.UTF8.GetBytes(builder.ToString()), bufPtr, bufLen, writtenPtr);
    }

    private static int BodyRead(Caller caller, int handle, int bufPtr, int bufLen, int writtenPtr)
    {
        var ctx = Ctx(caller);
        if (State(ctx).Get(handle) is not { } open)
        {
            return InvalidHandle;
        }
        if (!TryGuest(caller, ctx, out var guest))
        {
            return MemoryNotFound;
        }
        if (!guest.TrySpan(bufPtr, bufLen, out var buffer) || !guest.TrySpan(writtenPtr, 4, out var written))
        {
            return MemoryAccessError;
        }
        var remaining = open.Response.Body.Span[open.Position..];
        var count = Math.Min(remaining.Length, buffer.Length);
        remaining[..count].CopyTo(buffer);
        open.Position += count;
        BinaryPrimitives.WriteUInt32LittleEndian(written, (uint)count);
        return Success;
    }

    private static int WriteOut(GuestMemory guest, byte[] data, int bufPtr, int bufLen, int writtenPtr)
    {
        if (bufLen < 0 || (uint)data.Length > (uint)bufLen)
        {
            return BufferTooSmall;
        }
        if (!guest.TrySpan(bufPtr, data.Length, out var buffer) || !guest.TrySpan(writtenPtr, 4, out var written))
        {
            return MemoryAccessError;
        }
        data.CopyTo(buffer);
        BinaryPrimitives.WriteUInt32LittleEndian(written, (uint)data.Length);
        return Success;
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = s_strictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    /// <summary>"name:value" lines separated by '\n' (a '\r' before it is tolerated); empty lines are skipped.</summary>
    internal static bool TryParseHeaders(string text, out List<KeyValuePair<string, string>> headers, out string? error)
    {
        headers = [];
        error = null;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.EndsWith('\r') ? rawLine[..^1] : rawLine;
            if (line.Length == 0)
            {
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                error = $"the header line '{Printable(line)}' has no 'name:value' form";
                return false;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (!HttpToken.IsToken(name))
            {
                error = $"'{Printable(name)}' is not a valid header name";
                return false;
            }
            foreach (var c in value)
            {
                if ((c < ' ' && c != '\t') || c == 0x7F)
                {
                    error = $"the value of header '{name}' contains a control character";
                    return false;
                }
            }
            headers.Add(new(name, value));
        }
        return true;
    }

    private static string Printable(string text)
    {
        var shortened = text.Length > 64 ? text[..64] + "…" : text;
        return new string([.. shortened.Select(c => c < ' ' || c == 0x7F ? '?' : c)]);
    }

    /// <summary>Bounds-checked view of the guest's memory for one host call.</summary>
    private readonly struct GuestMemory(byte* start, ulong length)
    {
        private readonly byte* _start = start;
        private readonly ulong _length = length;

        public bool TrySpan(int pointer, int count, out Span<byte> span)
        {
            // Pointers and lengths are u32 in the ABI: read them as unsigned, so a "negative" one is just out of range.
            if ((ulong)(uint)pointer + (uint)count > _length)
            {
                span = default;
                return false;
            }
            if ((uint)count > int.MaxValue)
            {
                span = default;
                return false;
            }
            span = new Span<byte>(_start + (uint)pointer, count);
            return true;
        }
    }
}
