/**
 * A todo of the size an application would write (about 220 bytes of JSON, 137 of Avro): the
 * record every benchmark writes, so that their figures describe the same payload.
 */
export function benchTodo(i: number, key: number): Record<string, unknown> {
  const at = 1_790_000_000_000 + i;
  return {
    id: `todo-${key}`,
    name: `write the quarterly report, part ${i}`,
    description: 'collect the numbers from every team, check them twice and send a draft',
    done: i % 3 === 0,
    created_at: at,
    updated_at: at,
  };
}
