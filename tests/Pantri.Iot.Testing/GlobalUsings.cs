global using System.Buffers;
global using NUnit.Framework;
