"""What tests and bench share: processes, the launcher (stack), the receiver, run rows, nginx."""
