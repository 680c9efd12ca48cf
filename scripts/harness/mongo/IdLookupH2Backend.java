import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

/** The H2 backend with {@link IdLookupH2Database}s: see {@link IdLookupH2Collection} for why. */
public class IdLookupH2Backend extends H2Backend {

  /** Opens (or creates) the MVStore file, as H2Backend does. */
  public IdLookupH2Backend(String fileName) {
    super(fileName);
  }

  @Override
  protected MongoDatabase openOrCreateDatabase(String databaseName) {
    // Also runs from H2Backend's constructor (for the databases already on disk): getMvStore() and
    // getCursorRegistry() are set by then, where a field of this class would not be.
    return new IdLookupH2Database(databaseName, getMvStore(), getCursorRegistry());
  }
}
