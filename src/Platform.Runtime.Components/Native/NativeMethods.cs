using System.Runtime.InteropServices;

namespace Platform.Runtime.Components.Native;

/// <summary>
/// P/Invoke declarations for the component-model part of the Wasmtime C API (headers under
/// crates/c-api/include/wasmtime/component/ in bytecodealliance/wasmtime), which the native library shipped in the
/// Wasmtime NuGet package exports but the managed wrapper does not bind.
/// </summary>
internal static unsafe partial class NativeMethods
{
    // The same name the managed wrapper uses, so the runtime resolves the same native file from the package.
    private const string Library = "wasmtime";

    // --- errors and byte vectors -------------------------------------------------------------------------------

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_error_new(byte* message);

    [LibraryImport(Library)]
    public static partial void wasmtime_error_message(IntPtr error, ByteVec* message);

    [LibraryImport(Library)]
    public static partial void wasmtime_error_delete(IntPtr error);

    [LibraryImport(Library)]
    public static partial void wasm_byte_vec_new(ByteVec* output, nuint size, byte* data);

    [LibraryImport(Library)]
    public static partial void wasm_byte_vec_delete(ByteVec* vec);

    // Parses the text format (core modules and components alike, through the wat crate) into a binary.
    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_wat2wasm(byte* wat, nuint length, ByteVec* output);

    // --- store -------------------------------------------------------------------------------------------------

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_store_new(IntPtr engine, IntPtr data, IntPtr finalizer);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_store_context(IntPtr store);

    [LibraryImport(Library)]
    public static partial void wasmtime_store_delete(IntPtr store);

    [LibraryImport(Library)]
    public static partial void wasmtime_store_limiter(IntPtr store, long memorySize, long tableElements, long instances, long tables, long memories);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_context_get_data(IntPtr context);

    [LibraryImport(Library)]
    public static partial void wasmtime_context_set_epoch_deadline(IntPtr context, ulong ticksBeyondCurrent);

    [LibraryImport(Library)]
    public static partial void wasmtime_store_epoch_deadline_callback(IntPtr store,
        delegate* unmanaged<IntPtr, IntPtr, ulong*, byte*, IntPtr> callback, IntPtr data, IntPtr finalizer);

    // --- components --------------------------------------------------------------------------------------------

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_new(IntPtr engine, byte* bytes, nuint length, IntPtr* component);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_serialize(IntPtr component, ByteVec* output);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_deserialize(IntPtr engine, byte* bytes, nuint length, IntPtr* component);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr wasmtime_component_deserialize_file(IntPtr engine, string path, IntPtr* component);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_delete(IntPtr component);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_type(IntPtr component);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_type_delete(IntPtr type);

    [LibraryImport(Library)]
    public static partial nuint wasmtime_component_type_import_count(IntPtr type, IntPtr engine);

    // Wasmtime 50 returns a wasmtime_component_extern_t* here (freed with wasmtime_component_extern_delete); the
    // headers of 49 and earlier wrote a wasmtime_component_item_t instead.
    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool wasmtime_component_type_import_nth(IntPtr type, IntPtr engine, nuint nth, byte** name, nuint* nameLength, IntPtr* external);

    [LibraryImport(Library)]
    public static partial nuint wasmtime_component_type_export_count(IntPtr type, IntPtr engine);

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool wasmtime_component_type_export_nth(IntPtr type, IntPtr engine, nuint nth, byte** name, nuint* nameLength, IntPtr* external);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_extern_delete(IntPtr external);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_get_export_index(IntPtr component, IntPtr instanceExportIndex, byte* name, nuint nameLength);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_export_index_delete(IntPtr index);

    // --- linker ------------------------------------------------------------------------------------------------

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_new(IntPtr engine);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_root(IntPtr linker);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_linker_delete(IntPtr linker);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_define_unknown_imports_as_traps(IntPtr linker, IntPtr component);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_instantiate(IntPtr linker, IntPtr context, IntPtr component, ComponentInstance* instance);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_instance_add_instance(IntPtr linkerInstance, byte* name, nuint nameLength, IntPtr* child);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_linker_instance_delete(IntPtr linkerInstance);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_instance_add_func(IntPtr linkerInstance, byte* name, nuint nameLength,
        delegate* unmanaged<IntPtr, IntPtr, IntPtr, Val*, nuint, Val*, nuint, IntPtr> callback, IntPtr data, IntPtr finalizer);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_linker_instance_add_resource(IntPtr linkerInstance, byte* name, nuint nameLength,
        IntPtr resourceType, delegate* unmanaged<IntPtr, IntPtr, uint, IntPtr> destructor, IntPtr data, IntPtr finalizer);

    // --- instances and functions -------------------------------------------------------------------------------

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool wasmtime_component_instance_get_func(ComponentInstance* instance, IntPtr context, IntPtr exportIndex, ComponentFunc* func);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_func_call(ComponentFunc* func, IntPtr context, Val* args, nuint argCount, Val* results, nuint resultCount);

    // --- values and resources ----------------------------------------------------------------------------------

    [LibraryImport(Library)]
    public static partial Val* wasmtime_component_val_new(Val* value);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_val_delete(Val* value);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_vallist_new_uninit(ValVec* output, nuint size);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_valtuple_new_uninit(ValVec* output, nuint size);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_valrecord_new_uninit(ValVec* output, nuint size);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_resource_type_new_host(uint type);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_resource_type_delete(IntPtr type);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_resource_host_new([MarshalAs(UnmanagedType.U1)] bool owned, uint rep, uint type);

    [LibraryImport(Library)]
    public static partial uint wasmtime_component_resource_host_rep(IntPtr resource);

    [LibraryImport(Library)]
    public static partial uint wasmtime_component_resource_host_type(IntPtr resource);

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool wasmtime_component_resource_host_owned(IntPtr resource);

    [LibraryImport(Library)]
    public static partial void wasmtime_component_resource_host_delete(IntPtr resource);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_resource_any_to_host(IntPtr context, IntPtr resource, IntPtr* host);

    [LibraryImport(Library)]
    public static partial IntPtr wasmtime_component_resource_host_to_any(IntPtr context, IntPtr resource, IntPtr* any);

    /// <summary>Reads and frees a Wasmtime error.</summary>
    public static string TakeErrorMessage(IntPtr error)
    {
        ByteVec message;
        wasmtime_error_message(error, &message);
        try
        {
            return message.Size == 0 ? "" : System.Text.Encoding.UTF8.GetString(message.Data, checked((int)message.Size));
        }
        finally
        {
            wasm_byte_vec_delete(&message);
            wasmtime_error_delete(error);
        }
    }

    /// <summary>Creates a Wasmtime error (what a host callback returns to trap the guest).</summary>
    public static IntPtr NewError(string message)
    {
        var bytes = System.Text.Encoding.UTF8.GetByteCount(message);
        var buffer = bytes < 512 ? stackalloc byte[bytes + 1] : new byte[bytes + 1];
        System.Text.Encoding.UTF8.GetBytes(message, buffer);
        buffer[bytes] = 0;
        fixed (byte* p = buffer)
        {
            return wasmtime_error_new(p);
        }
    }
}

/// <summary>wasm_byte_vec_t / wasm_name_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ByteVec
{
    public nuint Size;
    public byte* Data;
}

/// <summary>The vec types of val.h (vallist, valtuple, valrecord): a length and a pointer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ValVec
{
    public nuint Size;
    public void* Data;
}

/// <summary>wasmtime_component_instance_t (16 bytes with padding).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct ComponentInstance
{
    public ulong StoreId;
    public uint Private;
}

/// <summary>
/// wasmtime_component_func_t: an inner struct { u64 store_id; u32 } (padded to 16 bytes), then a u32, so 24 bytes;
/// a smaller struct would let Wasmtime write past it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct ComponentFunc
{
    [FieldOffset(0)] public ulong StoreId;
    [FieldOffset(8)] public uint Private1;
    [FieldOffset(16)] public uint Private2;
}

/// <summary>
/// wasmtime_component_val_t: a kind byte, then (at offset 8) a union whose largest member, a variant, is a name
/// (length, pointer) and a value pointer. It is Rust's <c>#[repr(C, u8)]</c> enum, 32 bytes on 64-bit targets.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal unsafe struct Val
{
    [FieldOffset(0)] public ValKind Kind;
    [FieldOffset(8)] public ulong Scalar;
    [FieldOffset(8)] public nuint VecSize;
    [FieldOffset(16)] public void* VecData;
    // option: the payload pointer (null is none); resource: the resource_any pointer.
    [FieldOffset(8)] public Val* Pointer8;
    // result: is_ok at 8, payload at 16; variant: name at 8..24, payload at 24.
    [FieldOffset(16)] public Val* Pointer16;
    [FieldOffset(24)] public Val* Pointer24;
}

internal enum ValKind : byte
{
    Bool = 0, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, Char, String, List, Record, Tuple, Variant, Enum, Option, Result, Flags, Resource, Map, FixedLengthList,
}
