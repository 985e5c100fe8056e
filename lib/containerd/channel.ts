import { type Channel, createChannel } from 'nice-grpc';

/** The default socket, as ctr's. */
export const DEFAULT_ADDRESS = '/run/containerd/containerd.sock';
/** The default namespace, as ctr's. */
export const DEFAULT_NAMESPACE = 'default';

// containerd's Go client raises the receive limit to 16 MiB (large List answers); do the same, both ways.
const MAX_MESSAGE = 16 * 1024 * 1024;

/**
 * Opens a gRPC channel to containerd's unix socket. `address` is a socket path, or `unix://<path>`. Connecting is
 * lazy: a missing socket shows up on the first call as ERR_CONTAINERD_UNAVAILABLE.
 */
export function openChannel(address: string): Channel {
  const target = address.startsWith('unix:') ? address : `unix://${address}`;
  return createChannel(target, undefined, {
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
    // Fail calls at once while the socket is absent, instead of waiting for it to appear.
    'grpc.initial_reconnect_backoff_ms': 100,
  });
}
