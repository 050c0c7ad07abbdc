namespace Platform.ControlPlane.Apis;

// Logger categories of the API handlers, named after their resource: the static API classes cannot be type
// arguments, and an entity type (App, ApiKey) as the category would file API events under the data layer.
public sealed class AppsApiLogCategory;

public sealed class VersionsApiLogCategory;

public sealed class KeysApiLogCategory;

public sealed class TenantsApiLogCategory;
