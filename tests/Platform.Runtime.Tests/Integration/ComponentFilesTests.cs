using System.Text;
using Platform.Runtime;
using Wasmtime;

namespace Platform.Runtime.Tests.Integration;

/// <summary>The read-only preopened files (WASI preview 1) and the WAGI executor options, with real C modules.</summary>
[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ComponentFilesTests(RuntimeFixture fixture)
{
    private static readonly ComponentFiles s_files = ComponentFiles.Create(new Dictionary<string, ReadOnlyMemory<byte>>
    {
        ["/static/index.html"] = Encoding.UTF8.GetBytes("<h1>index</h1>\n"),
        ["/static/sub/deep.txt"] = Encoding.UTF8.GetBytes("deep file\n"),
        ["/static/a.txt"] = Encoding.UTF8.GetBytes("a"),
        ["/top.txt"] = Encoding.UTF8.GetBytes("top\n"),
    });

    private WagiResult Run(string app, string pathInfo = "/", ComponentFiles? files = null, string? entrypoint = null, string? argv = null,
        string scriptName = "/", string query = "", IReadOnlyList<KeyValuePair<string, string>>? variables = null) =>
        fixture.Executor.Execute(fixture.Load(app), new WagiRequest
        {
            Method = "GET",
            PathInfo = pathInfo,
            RawPathInfo = pathInfo,
            ScriptName = scriptName,
            QueryString = query,
            Files = files,
            Entrypoint = entrypoint,
            ArgvTemplate = argv,
            AppVariables = variables ?? [],
        }, AppLimits.Default, null, CancellationToken.None);

    private static string Body(WagiResult result)
    {
        Assert.True(result.IsSuccess, $"{result.Outcome}: {result.Error}");
        return Encoding.UTF8.GetString(result.Body.Span);
    }

    [Fact]
    public void The_file_server_serves_a_file_in_a_subdirectory_with_its_length()
    {
        using var result = Run("fileserver", "/static/sub/deep.txt", s_files);

        Assert.Equal("deep file\n", Body(result));
        Assert.Equal(200, result.StatusCode);
        Assert.Contains(result.Headers, h => h.Key == "Content-Type" && h.Value == "text/plain");
    }

    [Fact]
    public void The_file_server_lists_a_directory_through_readdir()
    {
        using var result = Run("fileserver", "/static", s_files);

        Assert.Equal("a.txt\nindex.html\nsub/\n", Body(result));
    }

    [Fact]
    public void The_root_directory_lists_the_top_of_the_tree()
    {
        using var result = Run("fileserver", "/", s_files);

        Assert.Equal("static/\ntop.txt\n", Body(result));
    }

    [Theory]
    [InlineData("/static/missing.txt")]
    [InlineData("/static/../../etc/passwd")]
    [InlineData("/../etc/hostname")]
    [InlineData("/etc/passwd")]
    [InlineData("/static/sub/deep.txt/")]
    public void Paths_outside_the_tree_or_missing_get_a_404(string path)
    {
        using var result = Run("fileserver", path, s_files);

        Body(result);
        Assert.Equal(404, result.StatusCode);
    }

    [Fact]
    public void A_module_without_files_has_no_preopen_and_finds_nothing()
    {
        using var result = Run("fileserver", "/static/a.txt", files: null);

        Assert.Equal(404, result.StatusCode);
        Assert.Contains("not found: /static/a.txt", Body(result));
    }

    [Fact]
    public void Escapes_writes_and_changes_all_fail_while_reads_inside_the_tree_work()
    {
        using var result = Run("fsprobe", files: s_files);
        var lines = Body(result).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 2)..]);

        Assert.Equal("ok 'deep file'", lines["read /static/sub/deep.txt"]);
        Assert.Equal("ok 'deep file'", lines["read /static/../static/sub/deep.txt"]);
        // This wasi-libc hands ".." to the host as it is; the host refuses to climb above the preopen.
        Assert.Equal("Capabilities insufficient", lines["read /../../etc/passwd"]);
        Assert.Equal("Capabilities insufficient", lines["read ../../../etc/passwd"]);
        Assert.Equal("No such file or directory", lines["read /etc/passwd"]);
        Assert.Equal("No such file or directory", lines["read /static/missing.txt"]);
        Assert.Equal("0", lines["raw static/sub/deep.txt"]);
        Assert.Equal("76", lines["raw ../etc/passwd"]); // ENOTCAPABLE
        Assert.Equal("76", lines["raw static/../../etc/passwd"]);
        Assert.Equal("76", lines["raw /etc/passwd"]);
        Assert.Equal("54", lines["raw static/sub/deep.txt/"]); // ENOTDIR
        Assert.Equal("Read-only file system", lines["write new"]);
        Assert.Equal("Read-only file system", lines["append existing"]);
        Assert.Equal("Read-only file system", lines["open rdwr"]);
        Assert.Equal("Read-only file system", lines["mkdir"]);
        Assert.Equal("Read-only file system", lines["unlink"]);
        Assert.Equal("Read-only file system", lines["rename"]);
        Assert.Equal("Read-only file system", lines["symlink"]);
        Assert.Equal("Read-only file system", lines["rmdir"]);
        Assert.Equal("Bad file descriptor", lines["write to read fd"]);
        Assert.Equal("3 'eep'", lines["pread at 1"]);
        Assert.Equal("10", lines["seek end"]);
        Assert.Equal("5 entries", lines["readdir /static"]); // ".", "..", a.txt, index.html, sub
        Assert.Equal("deep file\n", Encoding.UTF8.GetString(s_files.Root.Child("static")!.Child("sub")!.Child("deep.txt")!.Content.Span));
    }

    [Fact]
    public void Requests_on_many_threads_share_one_tree_without_interfering()
    {
        var bodies = new string[16];
        Parallel.For(0, bodies.Length, i =>
        {
            using var result = Run("fileserver", i % 2 == 0 ? "/static/sub/deep.txt" : "/top.txt", s_files);
            bodies[i] = Body(result);
        });

        for (var i = 0; i < bodies.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? "deep file\n" : "top\n", bodies[i]);
        }
    }

    [Fact]
    public void An_entrypoint_calls_that_export_instead_of_start()
    {
        using var start = Run("entrypoints", "/x");
        using var custom = Run("entrypoints", "/x", entrypoint: "custom_entry");

        Assert.Equal("start PATH_INFO=/x X_MATCHED_ROUTE=/...\n", Body(start));
        Assert.Equal("custom_entry PATH_INFO=/x X_MATCHED_ROUTE=/...\n", Body(custom));
    }

    [Fact]
    public void A_missing_entrypoint_is_a_trap_that_names_it()
    {
        using var result = Run("entrypoints", entrypoint: "nope");

        Assert.Equal(WagiOutcome.Trap, result.Outcome);
        Assert.Contains("'nope'", result.Error);
    }

    [Fact]
    public void Routes_export_is_discovered_with_its_wildcard_and_a_module_without_it_has_none()
    {
        var routes = fixture.Executor.DiscoverRoutes(fixture.Load("entrypoints"), AppLimits.Default, null, CancellationToken.None);
        var none = fixture.Executor.DiscoverRoutes(fixture.Load("fileserver"), AppLimits.Default, null, CancellationToken.None);

        Assert.Equal([new WagiDynamicRoute("/hello", "hello"), new WagiDynamicRoute("/files/...", "files")], routes);
        Assert.Null(none);
        Assert.Equal("/greet/files/...", routes![1].Under("/greet"));
        Assert.Equal("/hello", routes[0].Under("/"));
    }

    [Fact]
    public void The_argv_template_follows_spin()
    {
        using var templated = Run("cgienv", "/b", scriptName: "/a", query: "x=1&y=2", argv: "tool --path ${SCRIPT_NAME} ${ARGS}");
        using var plain = Run("cgienv", "/b", scriptName: "/a", query: "x=1&y=2");

        var args = Body(templated).Split('\n').Where(l => l.StartsWith("argv[", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["argv[0]=tool", "argv[1]=--path", "argv[2]=/a/b", "argv[3]=x=1", "argv[4]=y=2"], args);
        var plainArgs = Body(plain).Split('\n').Where(l => l.StartsWith("argv[", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["argv[0]=/a", "argv[1]=x=1", "argv[2]=y=2"], plainArgs);
    }

    [Fact]
    public void Cgi_variables_include_the_relative_path_and_only_the_given_environment()
    {
        using var result = Run("cgienv", "/sub/file.txt", scriptName: "/static", variables: [new("COMPONENT_ONLY", "yes")]);
        var lines = Body(result).Split('\n');

        Assert.Contains("X_RELATIVE_PATH=sub/file.txt", lines);
        Assert.Contains("SCRIPT_NAME=/static", lines);
        Assert.Contains("PATH_INFO=/sub/file.txt", lines);
        Assert.Contains("COMPONENT_ONLY=yes", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("PATH=", StringComparison.Ordinal) || l.StartsWith("HOME=", StringComparison.Ordinal));
    }

    // "static" is at 300, "static/a.txt" at 320, "../x" at 340 in the module's memory.
    [Theory]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 65530) (i32.const 20) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 21)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 65534))", 21)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 320) (i32.const -1) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 21)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 340) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 76)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 1) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 69)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 0) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 64))", 69)]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 2) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 54)]
    [InlineData("(call $path_open (i32.const 9) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 8)]
    [InlineData("(call $path_open (i32.const 1) (i32.const 0) (i32.const 320) (i32.const 12) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))", 54)]
    [InlineData("(call $fd_readdir (i32.const 3) (i32.const 65500) (i32.const 100) (i64.const 0) (i32.const 64))", 21)]
    [InlineData("(call $fd_readdir (i32.const 3) (i32.const 400) (i32.const -5) (i64.const 0) (i32.const 64))", 21)]
    [InlineData("(call $fd_readdir (i32.const 3) (i32.const 400) (i32.const 100) (i64.const -1) (i32.const 64))", 0)]
    [InlineData("(call $fd_prestat_get (i32.const 3) (i32.const 65533))", 21)]
    [InlineData("(call $fd_prestat_get (i32.const 4) (i32.const 64))", 8)]
    [InlineData("(call $fd_prestat_dir_name (i32.const 3) (i32.const 65536) (i32.const 1))", 21)]
    [InlineData("(call $fd_prestat_dir_name (i32.const 3) (i32.const 64) (i32.const 0))", 37)]
    [InlineData("(call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 300) (i32.const 6) (i32.const 65500))", 21)]
    [InlineData("(call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 300) (i32.const 6) (i32.const 400))", 0)]
    [InlineData("(call $path_unlink_file (i32.const 3) (i32.const 320) (i32.const 12))", 69)]
    [InlineData("(call $path_unlink_file (i32.const 3) (i32.const 65530) (i32.const 100))", 21)]
    [InlineData("(call $fd_read (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 64))", 31)]
    [InlineData("(call $fd_seek (i32.const 3) (i64.const 0) (i32.const 0) (i32.const 64))", 31)]
    [InlineData("(call $fd_close (i32.const 4))", 8)]
    public async Task Hostile_file_calls_get_an_errno_never_a_crash(string call, int expectedErrno)
    {
        var wat = $$"""
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "Status: 200\0a\0a")
              (data (i32.const 300) "static")
              (data (i32.const 320) "static/a.txt")
              (data (i32.const 340) "../x")
              (func (export "_start") (local $errno i32)
                (i32.store (i32.const 0) (i32.const 100))
                (i32.store (i32.const 4) (i32.const 13))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
                (local.set $errno {{call}})
                (i32.store8 (i32.const 200) (i32.add (i32.const 48) (i32.div_u (local.get $errno) (i32.const 10))))
                (i32.store8 (i32.const 201) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10))))
                (i32.store (i32.const 16) (i32.const 200))
                (i32.store (i32.const 20) (i32.const 2))
                (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))
            """;
        var bytes = Module.ConvertText(wat);
        var module = await fixture.Cache.GetAsync(RuntimeFixture.DigestOf(bytes), _ => Task.FromResult(bytes), CancellationToken.None);

        using var result = fixture.Executor.Execute(module, new WagiRequest { Method = "GET", Files = s_files }, AppLimits.Default, null, CancellationToken.None);

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal(expectedErrno.ToString("00", System.Globalization.CultureInfo.InvariantCulture), Encoding.ASCII.GetString(result.Body.Span));
    }

    [Fact]
    public void A_tree_refuses_paths_that_are_not_normalised()
    {
        foreach (var bad in new[] { "relative.txt", "/a/../b", "/a//b", "/./a", "/" })
        {
            var error = Assert.Throws<ArgumentException>(() => ComponentFiles.Create([new(bad, ReadOnlyMemory<byte>.Empty)]));
            Assert.Contains($"'{bad}'", error.Message);
        }
        Assert.Throws<ArgumentException>(() => ComponentFiles.Create([new("/a", ReadOnlyMemory<byte>.Empty), new("/a/b", ReadOnlyMemory<byte>.Empty)]));
    }
}
