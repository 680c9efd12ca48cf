import de.bwaldvogel.mongo.backend.KeyValue;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the H2 backend's unique indexes ({@code _id_} among them): H2's own
 * ObjectDataType, same bytes on disk and same order, with the comparison made cheap.
 *
 * <p>An index key is a KeyValue, which is not Comparable, so ObjectDataType orders two of them by
 * their Java serializations and serializes both operands on every comparison: each lookup in a
 * B-tree of 100,000 keys cost about 34 serializations, the largest share of the server's time per
 * write. Here each key's serialization is kept while the key object lives (a weak map), so the
 * order, and therefore every existing data file, stays exactly as it was.
 *
 * <p>Only keys whose values are all of types whose {@code equals} implies identical serialized
 * bytes (strings, boxed numbers, booleans, null) are remembered, because the weak map finds a key
 * by {@code equals}; any other key is serialized on every comparison, as before.
 */
public class MemoizedKeyType extends ObjectDataType {
  private final Map<KeyValue, byte[]> serialized = Collections.synchronizedMap(new WeakHashMap<>());

  @Override
  public int compare(Object a, Object b) {
    if (a == b || !(a instanceof KeyValue) || !(b instanceof KeyValue)) {
      return super.compare(a, b);
    }
    return compareNotNull(bytes((KeyValue) a), bytes((KeyValue) b));
  }

  private byte[] bytes(KeyValue key) {
    if (!isPlain(key)) {
      return serialize(key);
    }
    byte[] known = serialized.get(key);
    if (known == null) {
      known = serialize(key);
      serialized.put(key, known);
    }
    return known;
  }

  private static boolean isPlain(KeyValue key) {
    for (Object value : key) {
      if (value != null
          && !(value instanceof String)
          && !(value instanceof Double)
          && !(value instanceof Long)
          && !(value instanceof Integer)
          && !(value instanceof Boolean)) {
        return false;
      }
    }
    return true;
  }
}
