using Platform.ControlPlane.Domain;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppNamesTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("a1b")]
    [InlineData("my-app-2")]
    [InlineData("123")]
    public void Valid_dns_labels_are_accepted(string name) => Assert.Null(AppNames.Validate(name));

    [Fact]
    public void A_name_of_exactly_63_characters_is_accepted_and_64_is_not()
    {
        Assert.Null(AppNames.Validate(new string('a', 63)));
        Assert.Contains("64", AppNames.Validate(new string('a', 64)));
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("ab", "3 to 63")]
    [InlineData("Hello", "DNS label")]
    [InlineData("-abc", "DNS label")]
    [InlineData("abc-", "DNS label")]
    [InlineData("a_b", "DNS label")]
    [InlineData("a.b", "DNS label")]
    [InlineData("héllo", "DNS label")]
    [InlineData("xn--abc", "encoded")]
    [InlineData("www", "reserved")]
    [InlineData("abc\n", "DNS label")]
    public void Invalid_names_are_refused_with_a_reason_that_quotes_them(string name, string reason)
    {
        var error = AppNames.Validate(name);
        Assert.NotNull(error);
        Assert.Contains(reason, error);
        if (name.Length > 0)
        {
            Assert.Contains($"'{name}'", error);
        }
    }
}
