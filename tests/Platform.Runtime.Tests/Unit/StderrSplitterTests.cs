using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

/// <summary>How a request's stderr becomes app log lines: split at newlines, cut per line and in total.</summary>
[Trait("Category", "Unit")]
public sealed class StderrSplitterTests
{
    private const int MaxLine = 8 * 1024;
    private const int MaxTotal = 1024 * 1024;

    private static List<string> Split(params byte[][] writes)
    {
        var lines = new List<string>();
        using var context = new WasiContext(EncodedStrings.Rent(1, 16), EncodedStrings.Rent(1, 16), ReadOnlyMemory<byte>.Empty, 1024,
            lines.Add, long.MaxValue, CancellationToken.None);
        foreach (var write in writes)
        {
            context.WriteStderr(write);
        }
        context.FlushStderr();
        return lines;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Lines_split_across_writes_come_out_whole_with_CR_stripped_and_empty_lines_skipped()
    {
        var lines = Split(Bytes("first\nsec"), Bytes("ond\r\n\n\nthird"), Bytes(" part"));
        Assert.Equal(["first", "second", "third part"], lines);
    }

    [Fact]
    public void A_line_longer_than_8_KiB_is_cut_into_pieces_of_8_KiB()
    {
        var line = new string('a', MaxLine) + new string('b', MaxLine) + "tail\n";
        var lines = Split(Bytes(line));
        Assert.Equal([new string('a', MaxLine), new string('b', MaxLine), "tail"], lines);
    }

    [Fact]
    public void A_line_of_exactly_8_KiB_stays_one_line()
    {
        Assert.Equal([new string('x', MaxLine), "next"], Split(Bytes(new string('x', MaxLine) + "\nnext\n")));
    }

    [Fact]
    public void Exactly_1_MiB_is_kept_and_one_byte_more_ends_the_log_with_a_truncation_line()
    {
        var block = new byte[64 * 1024];
        for (var i = 0; i < block.Length; i += 64)
        {
            Array.Fill(block, (byte)'f', i, 63);
            block[i + 63] = (byte)'\n';
        }
        var writes = Enumerable.Repeat(block, MaxTotal / block.Length).ToList();
        var exact = Split([.. writes]);
        Assert.Equal(MaxTotal / 64, exact.Count);
        Assert.All(exact, l => Assert.Equal(new string('f', 63), l));

        writes.Add(Bytes("more\n"));
        writes.Add(Bytes("and more\n"));
        var over = Split([.. writes]);
        Assert.Equal(MaxTotal / 64 + 1, over.Count);
        Assert.Equal("[stderr truncated: more than 1 MiB written]", over[^1]);
    }

    [Fact]
    public void A_partial_line_at_the_cut_is_emitted_before_the_truncation_line()
    {
        var lines = Split(Bytes(new string('p', 100)), new byte[MaxTotal]);
        // 100 'p's, then zero bytes (no newline) to the cap: one 8 KiB piece at a time, the rest flushed at the cut.
        Assert.Equal("[stderr truncated: more than 1 MiB written]", lines[^1]);
        Assert.StartsWith(new string('p', 100), lines[0]);
        Assert.Equal(MaxTotal, lines.Take(lines.Count - 1).Sum(l => Encoding.UTF8.GetByteCount(l)));
    }
}
