using Palisade.Cli;

return PalisadeCli.Run(args, Console.Out, Console.Error);
