/** The web page of `layerfs serve`: the explorer and the container lab (issue 10). */
import { render } from 'preact';
import { App } from './app';
import './styles.css';

render(<App />, document.getElementById('app')!);
