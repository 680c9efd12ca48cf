import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import org.h2.mvstore.MVMap;

/**
 * An H2 collection that answers a filter holding a plain {@code _id} equality from the {@code _id}
 * index, as MongoDB's planner does, instead of scanning the whole collection.
 *
 * <p>mongo-java-server uses an index only when the filter is exactly the index's keys: {@code {_id:
 * k}} is a lookup, but {@code {_id: k, $or: [...]}} (the MongoDB sink's version-guarded upsert)
 * scans every document, so each write costs time proportional to the collection. Here the
 * {@code _id} part picks the one candidate through the index (whose key normalization makes an int,
 * a long and a double of the same value one key, as the server's own lone-{@code _id} lookup does)
 * and the whole filter is then matched against it, so the answer is the scan's. Anything else (an
 * operator document, a list, null, a type not listed in {@link #isPlainId}) takes the original path.
 */
public class IdLookupH2Collection extends H2Collection {

  public IdLookupH2Collection(
      MongoDatabase database,
      String collectionName,
      CollectionOptions options,
      MVMap<Object, Document> dataMap,
      MVMap<String, Object> metaMap,
      CursorRegistry cursorRegistry) {
    super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
  }

  @Override
  protected QueryResult queryDocuments(
      Document query,
      Document orderBy,
      int numberToSkip,
      int limit,
      int batchSize,
      Document fieldSelector) {
    Iterable<Object> positions = idPositions(query);
    if (positions == null) {
      return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }
    return matchDocuments(
        query, positions, orderBy, numberToSkip, limit, batchSize, fieldSelector);
  }

  /** The positions the {@code _id} index gives for the filter's plain id, or null to scan. */
  private Iterable<Object> idPositions(Document query) {
    String idField = getIdField();
    // A lone _id is already looked up by the server itself: leave that path as it is.
    if (idField == null || query.size() < 2 || !query.containsKey(idField)) {
      return null;
    }
    Object id = query.get(idField);
    if (!isPlainId(id)) {
      return null;
    }
    Document probe = new Document(idField, id);
    for (Index<Object> index : getIndexes()) {
      if (index.isUnique() && index.canHandle(probe)) {
        return index.getPositions(probe);
      }
    }
    return null;
  }

  /**
   * Values whose equality the index answers exactly like the matcher. Not null or Missing (which
   * also match a document without the field), not a document (an operator, a regex or an embedded
   * id), not a list, not NaN or an infinity.
   */
  private static boolean isPlainId(Object id) {
    if (id instanceof String || id instanceof Integer || id instanceof Long) {
      return true;
    }
    if (id instanceof Double) {
      return Double.isFinite((Double) id);
    }
    return id instanceof ObjectId;
  }
}
