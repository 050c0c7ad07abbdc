using System.Diagnostics;
using Platform.Runtime.Outbound;

namespace Platform.Runtime.Components.Host;

/// <summary>The host-defined resource types; the value is the 32-bit type Wasmtime carries with each handle.</summary>
internal enum ResourceKind : uint
{
    IoError = 1,
    Pollable,
    InputStream,
    OutputStream,
    Fields,
    IncomingRequest,
    OutgoingRequest,
    RequestOptions,
    ResponseOutparam,
    IncomingResponse,
    IncomingBody,
    FutureTrailers,
    OutgoingResponse,
    OutgoingBody,
    FutureIncomingResponse,
    TerminalInput,
    TerminalOutput,
    Descriptor,
    DirectoryEntryStream,
}

internal sealed class IoError(string message)
{
    public string Message { get; } = message;
}

/// <summary>A pollable: ready at once, or when the monotonic clock reaches <see cref="ReadyAt"/> (a Stopwatch timestamp).</summary>
internal sealed class Pollable(long readyAt)
{
    public static long AlwaysReady => 0;

    public long ReadyAt { get; } = readyAt;

    public bool IsReady => ReadyAt == 0 || Stopwatch.GetTimestamp() >= ReadyAt;
}

/// <summary>An in-memory input stream (request body, response body of an outbound call, empty stdin).</summary>
internal sealed class InputStream(ReadOnlyMemory<byte> data)
{
    private int _position;

    public ReadOnlyMemory<byte> Read(ulong length)
    {
        var count = (int)Math.Min(length, (ulong)(data.Length - _position));
        var slice = data.Slice(_position, count);
        _position += count;
        return slice;
    }

    public bool AtEnd => _position >= data.Length;
}

internal enum OutputTarget { Body, Stdout, Stderr }

internal sealed class OutputStream(OutputTarget target, BodyBuffer? body)
{
    public OutputTarget Target { get; } = target;

    public BodyBuffer? Body { get; } = body;
}

/// <summary>A growing byte buffer with a cap (a response or outbound request body).</summary>
internal sealed class BodyBuffer(long limit)
{
    private byte[] _buffer = [];

    public int Length { get; private set; }

    public long Limit { get; } = limit;

    public bool Finished { get; set; }

    /// <summary>Appends; false (and nothing written) when the cap would be passed.</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes)
    {
        if (Length + (long)bytes.Length > Limit)
        {
            return false;
        }
        if (Length + bytes.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(Length + bytes.Length, Math.Min(Math.Max(_buffer.Length * 2, 4096), (int)Math.Min(Limit, int.MaxValue))));
        }
        bytes.CopyTo(_buffer.AsSpan(Length));
        Length += bytes.Length;
        return true;
    }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);
}

/// <summary>wasi:http fields: an ordered list of (name, value); names compare case-insensitively.</summary>
internal sealed class Fields
{
    public Fields(List<KeyValuePair<string, byte[]>> entries, bool immutable)
    {
        Entries = entries;
        Immutable = immutable;
    }

    public List<KeyValuePair<string, byte[]>> Entries { get; }

    public bool Immutable { get; }

    /// <summary>A handle on the same entries that refuses changes (what <c>headers()</c> of a request or response returns).</summary>
    public Fields ImmutableView() => Immutable ? this : new Fields(Entries, immutable: true);
}

internal sealed class IncomingRequest(ComponentRequest request, Fields headers)
{
    public ComponentRequest Request { get; } = request;

    public Fields Headers { get; } = headers;

    public bool Consumed { get; set; }
}

internal sealed class IncomingBody(ReadOnlyMemory<byte> data)
{
    public ReadOnlyMemory<byte> Data { get; } = data;

    public bool StreamTaken { get; set; }
}

internal sealed class FutureTrailers;

internal sealed class OutgoingResponse(Fields headers, long bodyLimit)
{
    public ushort Status { get; set; } = 200;

    public Fields Headers { get; } = headers;

    public BodyBuffer Body { get; } = new(bodyLimit);

    public bool BodyTaken { get; set; }
}

/// <summary>The write end of a body; <see cref="BodyBuffer"/> is shared with its stream and its response or request.</summary>
internal sealed class OutgoingBody(BodyBuffer buffer)
{
    public BodyBuffer Buffer { get; } = buffer;

    public bool StreamTaken { get; set; }
}

internal sealed class ResponseOutparam;

internal sealed class OutgoingRequest(Fields headers, long bodyLimit)
{
    public string Method { get; set; } = "GET";

    public string? Scheme { get; set; }

    public string? Authority { get; set; }

    public string? PathWithQuery { get; set; }

    public Fields Headers { get; } = headers;

    public BodyBuffer Body { get; } = new(bodyLimit);

    public bool BodyTaken { get; set; }
}

internal sealed class RequestOptions
{
    public ulong? ConnectTimeout { get; set; }

    public ulong? FirstByteTimeout { get; set; }

    public ulong? BetweenBytesTimeout { get; set; }
}

internal sealed class FutureIncomingResponse(ComponentOutboundResult result, OutboundCallBudget? budget = null)
{
    public ComponentOutboundResult Result { get; } = result;

    /// <summary>The instance's budget slot this response holds, given back when the guest drops it.</summary>
    public OutboundCallBudget? Budget { get; private set; } = budget;

    public void ReleaseBudget()
    {
        Budget?.Release();
        Budget = null;
    }

    public bool Taken { get; set; }
}

internal sealed class IncomingResponse(ComponentOutboundResponse response, Fields headers)
{
    public ComponentOutboundResponse Response { get; } = response;

    public Fields Headers { get; } = headers;

    public bool Consumed { get; set; }
}
