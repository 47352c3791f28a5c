"""The People's Bank, carriers and vendors: reporting duties and call-outs. Issue 19."""
