using HetQ.Bench;

return BenchMain.Run(args);
