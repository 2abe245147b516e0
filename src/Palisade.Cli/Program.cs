using Palisade.AnalysisWorker;
using Palisade.Cli;

// The analysis process the server starts (issue 19) is this same program: a single-file build has no other.
if (args is [ImpactWorker.Command])
{
    await ImpactWorker.RunAsync(Console.OpenStandardInput(), Console.OpenStandardOutput());
    return 0;
}
return PalisadeCli.Run(args, Console.Out, Console.Error);
