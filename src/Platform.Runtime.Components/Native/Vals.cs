using System.Text;

namespace Platform.Runtime.Components.Native;

/// <summary>
/// Builds component values in memory Wasmtime owns (strings, lists, boxed payloads are allocated by the native
/// library), because Wasmtime frees every value a host function returns. Each builder returns the value by copy;
/// putting it into a parent moves it there.
/// </summary>
internal static unsafe class V
{
    public static Val Bool(bool value) => new() { Kind = ValKind.Bool, Scalar = value ? 1UL : 0UL };

    public static Val U8(byte value) => new() { Kind = ValKind.U8, Scalar = value };

    public static Val U16(ushort value) => new() { Kind = ValKind.U16, Scalar = value };

    public static Val U32(uint value) => new() { Kind = ValKind.U32, Scalar = value };

    public static Val U64(ulong value) => new() { Kind = ValKind.U64, Scalar = value };

    public static Val String(string value)
    {
        var v = new Val { Kind = ValKind.String };
        SetName(&v, value);
        return v;
    }

    public static Val Enum(string caseName)
    {
        var v = new Val { Kind = ValKind.Enum };
        SetName(&v, caseName);
        return v;
    }

    /// <summary>A variant case; <paramref name="payload"/> null for a case without one.</summary>
    public static Val Variant(string caseName, Val? payload = null)
    {
        var v = new Val { Kind = ValKind.Variant };
        SetName(&v, caseName);
        v.Pointer24 = payload is { } p ? Box(p) : null;
        return v;
    }

    public static Val None() => new() { Kind = ValKind.Option, Pointer8 = null };

    public static Val Some(Val payload) => new() { Kind = ValKind.Option, Pointer8 = Box(payload) };

    public static Val Ok(Val? payload = null) => new() { Kind = ValKind.Result, Scalar = 1, Pointer16 = payload is { } p ? Box(p) : null };

    public static Val Err(Val? payload = null) => new() { Kind = ValKind.Result, Scalar = 0, Pointer16 = payload is { } p ? Box(p) : null };

    /// <summary>list&lt;u8&gt;: one value per byte, which is how the C API represents it.</summary>
    public static Val Bytes(ReadOnlySpan<byte> bytes)
    {
        var v = new Val { Kind = ValKind.List };
        ValVec vec;
        NativeMethods.wasmtime_component_vallist_new_uninit(&vec, (nuint)bytes.Length);
        var items = (Val*)vec.Data;
        for (var i = 0; i < bytes.Length; i++)
        {
            items[i] = default;
            items[i].Kind = ValKind.U8;
            items[i].Scalar = bytes[i];
        }
        v.VecSize = vec.Size;
        v.VecData = vec.Data;
        return v;
    }

    public static Val List(int count, Func<int, Val> item) => Sequence(ValKind.List, count, item);

    public static Val List(IReadOnlyList<Val> items) => Sequence(ValKind.List, items.Count, i => items[i]);

    public static Val Tuple(params Val[] items) => Sequence(ValKind.Tuple, items.Length, i => items[i]);

    /// <summary>A record; fields must be given in the record type's order.</summary>
    public static Val Record(params (string Name, Val Value)[] fields)
    {
        var v = new Val { Kind = ValKind.Record };
        ValVec vec;
        NativeMethods.wasmtime_component_valrecord_new_uninit(&vec, (nuint)fields.Length);
        var entries = (byte*)vec.Data;
        for (var i = 0; i < fields.Length; i++)
        {
            // wasmtime_component_valrecord_entry_t: the name (wasm_name_t, 16 bytes) then the value (32 bytes).
            var entry = entries + i * 48;
            WriteName((ByteVec*)entry, fields[i].Name);
            *(Val*)(entry + 16) = fields[i].Value;
        }
        v.VecSize = vec.Size;
        v.VecData = vec.Data;
        return v;
    }

    private static Val Sequence(ValKind kind, int count, Func<int, Val> item)
    {
        var v = new Val { Kind = kind };
        ValVec vec;
        if (kind == ValKind.Tuple)
        {
            NativeMethods.wasmtime_component_valtuple_new_uninit(&vec, (nuint)count);
        }
        else
        {
            NativeMethods.wasmtime_component_vallist_new_uninit(&vec, (nuint)count);
        }
        var items = (Val*)vec.Data;
        for (var i = 0; i < count; i++)
        {
            // Uninitialised memory gets a harmless value first, so a throwing item callback leaves a valid vec.
            items[i] = default;
        }
        for (var i = 0; i < count; i++)
        {
            items[i] = item(i);
        }
        v.VecSize = vec.Size;
        v.VecData = vec.Data;
        return v;
    }

    private static Val* Box(Val payload) => NativeMethods.wasmtime_component_val_new(&payload);

    private static void SetName(Val* v, string value) => WriteName((ByteVec*)((byte*)v + 8), value);

    private static void WriteName(ByteVec* target, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        var buffer = count <= 256 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(value, buffer);
        fixed (byte* p = buffer)
        {
            NativeMethods.wasm_byte_vec_new(target, (nuint)count, p);
        }
    }
}

/// <summary>Thrown by host functions to trap the guest with a message; the dispatcher turns it into a Wasmtime error.</summary>
internal sealed class GuestTrapException(string message) : Exception(message);

/// <summary>Reads component values a guest passed, checking each kind, so a mistyped import traps instead of misreading memory.</summary>
internal static unsafe class ValReader
{
    public static Val* Expect(Val* v, ValKind kind, string what)
    {
        if (v == null || v->Kind != kind)
        {
            throw new GuestTrapException($"{what}: expected a {kind}, got {(v == null ? "nothing" : v->Kind.ToString())}");
        }
        return v;
    }

    public static ulong U64(Val* v, string what) => Expect(v, ValKind.U64, what)->Scalar;

    public static uint U32(Val* v, string what) => (uint)Expect(v, ValKind.U32, what)->Scalar;

    public static ushort U16(Val* v, string what) => (ushort)Expect(v, ValKind.U16, what)->Scalar;

    public static byte U8(Val* v, string what) => (byte)Expect(v, ValKind.U8, what)->Scalar;

    public static string String(Val* v, string what)
    {
        Expect(v, ValKind.String, what);
        return Utf8(v);
    }

    /// <summary>The case name of a variant or enum.</summary>
    public static string CaseName(Val* v, string what)
    {
        if (v == null || (v->Kind != ValKind.Variant && v->Kind != ValKind.Enum))
        {
            throw new GuestTrapException($"{what}: expected a variant");
        }
        return Utf8(v);
    }

    public static Val* VariantPayload(Val* v) => v->Kind == ValKind.Variant ? v->Pointer24 : null;

    /// <summary>An option's payload, or null for none.</summary>
    public static Val* Option(Val* v, string what) => Expect(v, ValKind.Option, what)->Pointer8;

    public static bool ResultIsOk(Val* v, string what) => (Expect(v, ValKind.Result, what)->Scalar & 0xff) != 0;

    public static Val* ResultPayload(Val* v) => v->Pointer16;

    public static ReadOnlySpan<Val> Items(Val* v, ValKind kind, string what)
    {
        Expect(v, kind, what);
        return new ReadOnlySpan<Val>(v->VecData, checked((int)v->VecSize));
    }

    /// <summary>list&lt;u8&gt; into a new array.</summary>
    public static byte[] Bytes(Val* v, string what)
    {
        var items = Items(v, ValKind.List, what);
        var bytes = new byte[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Kind != ValKind.U8)
            {
                throw new GuestTrapException($"{what}: expected a list of u8");
            }
            bytes[i] = (byte)items[i].Scalar;
        }
        return bytes;
    }

    /// <summary>Copies list&lt;u8&gt; into <paramref name="sink"/> without an intermediate array.</summary>
    public static int CopyBytes(Val* v, string what, Action<ReadOnlySpan<byte>> sink)
    {
        var items = Items(v, ValKind.List, what);
        Span<byte> chunk = stackalloc byte[4096];
        var filled = 0;
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Kind != ValKind.U8)
            {
                throw new GuestTrapException($"{what}: expected a list of u8");
            }
            chunk[filled++] = (byte)items[i].Scalar;
            if (filled == chunk.Length)
            {
                sink(chunk);
                filled = 0;
            }
        }
        if (filled > 0)
        {
            sink(chunk[..filled]);
        }
        return items.Length;
    }

    private static string Utf8(Val* v)
    {
        var length = checked((int)v->VecSize);
        return length == 0 ? "" : Encoding.UTF8.GetString((byte*)v->VecData, length);
    }
}
