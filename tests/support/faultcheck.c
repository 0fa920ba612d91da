/* Placeholder: filled in by the fault-injection work (tests/integration/faults.sh). */
int main(void) { return 77; }
