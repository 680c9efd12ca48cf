/**
 * Thrown inside the runner when stop() abandons work that cannot finish now (a batch whose
 * target keeps failing): its entries stay pending for whoever owns the partition next.
 */
export class Abandoned extends Error {
  constructor(message = 'stopped while the target was failing') {
    super(message);
    this.name = 'Abandoned';
  }
}
