// The kernel-level model, the linearizer and raiser, and the table comparison are part of the
// transport's vocabulary (BatchOperation, NetlinkError), so clients import only NFTNetlink.
@_exported import NFTKernel
