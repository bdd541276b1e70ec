import { render } from 'preact';
import { App } from './app';
import { BuildingStore } from './store';
import './styles.css';

const store = new BuildingStore();
store.connect();
const root = document.getElementById('app');
if (root) render(<App store={store} />, root);
