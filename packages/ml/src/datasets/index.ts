export { mnist, type Dataset, type LabelledSet, type MnistOptions } from './mnist.ts';
