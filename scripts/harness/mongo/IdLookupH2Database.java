import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * An H2 database whose collections are {@link IdLookupH2Collection}s and whose unique indexes
 * compare keys through {@link MemoizedKeyType}, stored in the same maps (same names, same bytes,
 * same order) as {@link H2Database}'s, so existing data files open unchanged.
 *
 * <p>H2Database keeps its MVStore private and opens its first collections from its constructor,
 * before a subclass's fields are set; so this class skips that first call and repeats it once it
 * holds the store.
 */
public class IdLookupH2Database extends H2Database {
  // The map names of H2Database (package-private or private there).
  private static final String DATA_PREFIX = "databases.";
  private static final String META_PREFIX = "meta.";
  private static final String INDEX_INFIX = "._index_";

  private final MVStore store;

  public IdLookupH2Database(String databaseName, MVStore store, CursorRegistry cursorRegistry) {
    super(databaseName, store, cursorRegistry);
    this.store = store;
    super.initializeNamespacesAndIndexes();
  }

  @Override
  protected void initializeNamespacesAndIndexes() {
    // Called by H2Database's constructor while store is still null: done by ours instead.
    if (store != null) {
      super.initializeNamespacesAndIndexes();
    }
  }

  @Override
  protected MongoCollection<Object> openOrCreateCollection(
      String collectionName, CollectionOptions options) {
    String fullName = getFullCollectionNamespace(collectionName);
    MVMap<Object, Document> dataMap = store.openMap(DATA_PREFIX + fullName);
    MVMap<String, Object> metaMap = store.openMap(META_PREFIX + fullName);
    return new IdLookupH2Collection(
        this, collectionName, options, dataMap, metaMap, cursorRegistry);
  }

  @Override
  protected Index<Object> openOrCreateUniqueIndex(
      String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
    String mapName = getFullCollectionNamespace(collectionName) + INDEX_INFIX + indexName;
    MVMap<KeyValue, Object> map =
        store.openMap(
            mapName, new MVMap.Builder<KeyValue, Object>().keyType(new MemoizedKeyType()));
    return new MemoizedKeyH2UniqueIndex(map, indexName, keys, sparse);
  }
}
