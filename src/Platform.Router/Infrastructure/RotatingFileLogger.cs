using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Platform.Router.Infrastructure;

/// <summary>
/// The router's log as a file that rotates by size (<c>router.log</c>, <c>router.log.1</c> ... <c>router.log.N</c>),
/// used instead of the console when <see cref="RouterOptions.LogFile"/> is set. Lines go through a bounded queue to
/// one writer thread, so a slow disk never stalls a request; when the queue is full lines are dropped and counted.
/// </summary>
public sealed class RotatingFileLoggerProvider : ILoggerProvider
{
    private const int QueueLength = 10_000;

    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(QueueLength)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private readonly ConcurrentDictionary<string, FileLogger> _loggers = new(StringComparer.Ordinal);
    private readonly Thread _writer;
    private long _dropped;

    public RotatingFileLoggerProvider(string path, long maxBytes, int maxFiles)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "router-log-writer" };
        _writer.Start();
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new FileLogger(this, name));

    internal void Enqueue(string line)
    {
        if (!_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private void WriteLoop()
    {
        var stream = Open();
        var reader = _lines.Reader;
        try
        {
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var line))
                {
                    if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
                    {
                        Write(ref stream, $"{Stamp()} warn: Platform.Router.Log {dropped} log line(s) dropped: the log writer fell behind\n");
                    }
                    Write(ref stream, line);
                }
                stream.Flush();
            }
        }
        finally
        {
            stream.Dispose();
        }
    }

    private void Write(ref FileStream stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        if (stream.Length > 0 && stream.Length + bytes.Length > _maxBytes)
        {
            stream.Dispose();
            Rotate();
            stream = Open();
        }
        stream.Write(bytes);
    }

    private FileStream Open() => new(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>router.log -> router.log.1 -> ... ; the oldest beyond <c>maxFiles</c> is deleted.</summary>
    private void Rotate()
    {
        try
        {
            File.Delete($"{_path}.{_maxFiles}");
            for (var i = _maxFiles - 1; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}"))
                {
                    File.Move($"{_path}.{i}", $"{_path}.{i + 1}", overwrite: true);
                }
            }
            File.Move(_path, $"{_path}.1", overwrite: true);
        }
        catch (IOException)
        {
            // A rotation that fails (a file held elsewhere) is retried at the next line; the log keeps going.
        }
    }

    internal static string Stamp() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Join(TimeSpan.FromSeconds(5));
    }

    private sealed class FileLogger(RotatingFileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var message = formatter(state, exception);
            provider.Enqueue(exception is null
                ? $"{Stamp()} {level}: {category}[{eventId.Id}] {message}\n"
                : $"{Stamp()} {level}: {category}[{eventId.Id}] {message}\n{exception}\n");
        }
    }
}
