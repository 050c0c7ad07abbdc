using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppLimitsTests
{
    [Fact]
    public void Limits_that_passed_validation_and_are_copied_with_a_value_out_of_range_are_refused_again()
    {
        var valid = new AppLimits { WallTime = TimeSpan.FromSeconds(5), CpuTime = TimeSpan.FromMilliseconds(100) };
        valid.Validate();

        var wall = valid with { WallTime = TimeSpan.Zero };
        var cpu = valid with { CpuTime = TimeSpan.Zero };

        Assert.Contains("WallTime", Assert.Throws<ArgumentOutOfRangeException>(wall.Validate).Message);
        Assert.Contains("CpuTime", Assert.Throws<ArgumentOutOfRangeException>(cpu.Validate).Message);
        valid.Validate();
    }

    [Fact]
    public void Whether_limits_were_validated_is_not_part_of_their_value()
    {
        var validated = new AppLimits { MemoryBytes = 1 << 20 };
        validated.Validate();
        var fresh = new AppLimits { MemoryBytes = 1 << 20 };

        Assert.Equal(fresh, validated);
        Assert.Equal(fresh.GetHashCode(), validated.GetHashCode());
        Assert.Equal(fresh.ToString(), validated.ToString());
        Assert.NotEqual(fresh, validated with { MemoryBytes = 2 << 20 });
    }
}
