using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.ControlPlane.Hosting;

/// <summary>Declares the bearer API key in the OpenAPI document so the reference page can send it.</summary>
internal sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Wasm platform control plane";
        document.Info.Description = "Apps, versions and keys. Authenticate with `Authorization: Bearer <API key>`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key: the admin key printed by `deploy/platform.sh up`, or one made with POST /api/v1/keys.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
        return Task.CompletedTask;
    }
}
