"""The xborder gateway: REST/JSON transcoding and the gRPC front door, both driven by the descriptors."""
