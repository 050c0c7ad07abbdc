using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class YamlTests
{
    [Fact]
    public void A_multi_document_stream_yields_every_document_and_empty_documents_as_null()
    {
        var docs = Yaml.LoadAll("a: 1\n---\n---\nb: [x, y]\n", "test");

        Assert.Equal(3, docs.Count);
        Assert.Equal("1", docs[0].Text("a"));
        Assert.Null(docs[1]);
        Assert.Equal("y", docs[2].Text("b", 1));
    }

    [Fact]
    public void Merge_keys_copy_the_anchored_mapping_and_local_keys_win()
    {
        var doc = Yaml.LoadMapping("base: &b\n  x: 1\n  y: 2\nchild:\n  <<: *b\n  y: 3\n", "test");

        Assert.Equal("1", doc.Text("child", "x"));
        Assert.Equal("3", doc.Text("child", "y"));
    }

    [Fact]
    public void Invalid_yaml_is_reported_with_its_source_and_line()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Yaml.LoadAll("a: 1\nb: c: d\n", "broken.yaml"));

        Assert.Contains("broken.yaml", ex.Message);
        Assert.Contains("line 2", ex.Message);
    }

    [Fact]
    public void An_unclosed_flow_sequence_is_invalid_yaml_too()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Yaml.LoadAll("a: [1, 2\nb: c\n", "broken.yaml"));

        Assert.Contains("broken.yaml is not valid YAML", ex.Message);
    }

    [Fact]
    public void A_document_that_is_no_Kubernetes_object_is_rejected_with_its_position()
    {
        var ex = Assert.Throws<InvalidDataException>(() => KubernetesManifest.Parse("kind: Service\nmetadata:\n  name: a\n---\n- just a list\n", "render"));

        Assert.Contains("document 2", ex.Message);
    }
}
