/** How a local backend had to run a production object differently, said to the user. */
export interface Adaptation {
  kind: string;
  name: string;
  detail: string;
}
