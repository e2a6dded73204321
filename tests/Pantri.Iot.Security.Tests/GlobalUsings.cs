global using NUnit.Framework;

// The tests start real gateways on real ports and external processes; one at a time.
[assembly: Parallelizable(ParallelScope.None)]
