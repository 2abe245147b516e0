using Palisade.AnalysisWorker;

// Requests on standard input, answers on standard output, until the server closes the pipe.
await ImpactWorker.RunAsync(Console.OpenStandardInput(), Console.OpenStandardOutput());
return 0;
