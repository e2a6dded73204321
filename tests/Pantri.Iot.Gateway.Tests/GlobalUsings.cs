global using System.Buffers;
global using NUnit.Framework;

[assembly: Parallelizable(ParallelScope.None)]
