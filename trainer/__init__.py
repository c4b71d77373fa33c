"""The TumorChain model trainer: reads shards through data_contracts only."""
