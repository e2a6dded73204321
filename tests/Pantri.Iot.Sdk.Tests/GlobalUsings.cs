global using NUnit.Framework;
global using Pantri.Iot.Contract;
global using Pantri.Iot.Testing;
