/**
 * The Kafka bridge will fan the partition streams into Kafka topics as a sink on the shared
 * runtime (offsets kept with the produced records). It is not part of this version: the process
 * says so and exits, rather than pretending to run.
 */
console.error(
  'bridge-kafka is not available in this version; see ARCHITECTURE.md ("Kafka bridge").',
);
process.exit(2);
