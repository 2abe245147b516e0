using BenchmarkDotNet.Running;
using Palisade.Bench;

// `--memory` prints the memory-per-NIC table and checks engine against reference; anything else
// goes to BenchmarkDotNet (e.g. `--filter '*' --job short`).
if (args.Contains("--memory"))
    return MemoryReport.Run(Console.Out);
if (args.Contains("--dry-run-impact"))
    return DryRunImpactReport.Run(Console.Out, args);
if (args.Contains("--analysis-enis"))
    return EniAnalysisReport.Run(Console.Out, args);
if (args.Contains("--analysis"))
    return AnalysisReport.Run(Console.Out, args);
if (args.Contains("--suggest"))
    return SuggestReport.Run(Console.Out, args);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
