import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import java.io.File;
import java.util.concurrent.CountDownLatch;

/**
 * Runs mongo-java-server on an H2 MVStore file, so a MongoDB-wire server is available where no
 * real mongod can be installed, and its data survives a restart.
 *
 * <p>Usage: {@code java MongoLauncher <host> <port> <data file>}. Stop it with SIGTERM: the
 * shutdown hook closes the server, which closes the H2 store and writes its last changes to disk
 * (H2 otherwise only autocommits about once a second).
 *
 * <p>The backend is {@link IdLookupH2Backend}: H2's, except that a filter holding a plain {@code
 * _id} equality is answered from the {@code _id} index instead of a full scan, as MongoDB does.
 */
public final class MongoLauncher {
  private MongoLauncher() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 3) {
      System.err.println("usage: MongoLauncher <host> <port> <data file>");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    File dataFile = new File(args[2]).getAbsoluteFile();
    File parent = dataFile.getParentFile();
    if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
      System.err.println("cannot create " + parent);
      System.exit(1);
    }

    // Report 5.0 rather than the 3.6 default: current Node drivers refuse servers older than 4.0.
    MongoBackend backend = new IdLookupH2Backend(dataFile.getPath()).version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    System.err.println("mongo-java-server listening on " + host + ":" + port + ", data in " + dataFile);

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.shutdown();
                  System.err.println("mongo-java-server stopped");
                  stopped.countDown();
                },
                "mongo-shutdown"));
    stopped.await();
  }
}
