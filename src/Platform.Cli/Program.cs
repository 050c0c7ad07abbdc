using System.CommandLine;
using Platform.Cli;
using Platform.Cli.Commands;

var root = new RootCommand("platform: deploy WebAssembly apps, roll them back, and read their logs.");
LoginCommand.AddTo(root);
DeployCommand.AddTo(root);
AppsCommands.AddTo(root);
LogsCommand.AddTo(root);
VarsCommand.AddTo(root);
SecretsCommand.AddTo(root);
KeysCommands.AddTo(root);
TenantsCommands.AddTo(root);
return await Cli.RunAsync(root, args);
