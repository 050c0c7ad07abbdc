# syntax=docker/dockerfile:1
# Migration runner: applies pending EF Core migrations to Platform__Database__ConnectionString and exits 0.
# Runs once before a new control plane starts (compose "migrations" service, Kubernetes Job "migrations").
# Build context is the repository root:
#   docker build -f deploy/docker/migrations.Dockerfile -t platform/migrations .

# Only the files `dotnet restore` reads (project files, central package versions, build settings), so the
# restore layer below is reused until one of them changes, not on every source edit.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS restore-inputs
WORKDIR /src
COPY . .
RUN find . -type f ! \( -name '*.csproj' -o -name 'Directory.Build.props' -o -name 'Directory.Build.targets' \
        -o -name 'Directory.Packages.props' -o -name 'global.json' -o -iname 'nuget.config' \) -delete \
 && find . -type d -empty -delete

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY --from=restore-inputs /src/ ./
RUN dotnet restore migrations/Platform.Migrations/Platform.Migrations.csproj -a "${TARGETARCH:-amd64}"
COPY . .
RUN dotnet publish migrations/Platform.Migrations/Platform.Migrations.csproj -c Release -a "${TARGETARCH:-amd64}" \
        --no-restore --self-contained false -p:UseAppHost=false -o /app

# The ASP.NET runtime image, not the plain .NET one: Platform.Data references the ASP.NET Core shared framework.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's unprivileged "app" user (UID 1654), numeric so Kubernetes can verify runAsNonRoot.
USER $APP_UID
ENTRYPOINT ["dotnet", "Platform.Migrations.dll"]
