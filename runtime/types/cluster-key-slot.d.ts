// The hash slot function ioredis itself routes with (the package ships no types).
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0-16383) of a key, honouring its `{hash tag}`. */
  export default function generate(key: string | Buffer): number;
}
