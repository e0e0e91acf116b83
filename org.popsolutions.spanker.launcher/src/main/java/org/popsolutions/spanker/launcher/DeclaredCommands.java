package org.popsolutions.spanker.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * The command names the started bundles declare in their Declarative Services descriptions, read from the bundles
 * themselves (the {@code Service-Component} header and its XML files).
 *
 * <p>Declarative Services registers a command only once its component is satisfied, a moment after its bundle has
 * started; the declarations are there at once. Knowing them, the catalog stops waiting as soon as every declared
 * command is registered, and answers a name nobody declares without waiting at all. Components that are disabled
 * by default or need a configuration are not counted as expected: they may legitimately never appear.
 */
final class DeclaredCommands {
    private DeclaredCommands() {
    }

    /** The names declared by every active (or lazily starting) bundle of the framework. */
    static Set<String> in(BundleContext context) {
        Set<String> names = new LinkedHashSet<>();
        for (Bundle bundle : context.getBundles()) {
            if ((bundle.getState() & (Bundle.ACTIVE | Bundle.STARTING)) == 0) {
                continue;
            }
            String header = bundle.getHeaders("").get("Service-Component");
            if (header == null) {
                continue;
            }
            for (URL description : descriptions(bundle, header)) {
                names.addAll(commandsIn(description));
            }
        }
        return names;
    }

    private static List<URL> descriptions(Bundle bundle, String header) {
        List<URL> urls = new ArrayList<>();
        for (String entry : header.split(",")) {
            String path = entry.trim();
            int attributes = path.indexOf(';');
            if (attributes >= 0) {
                path = path.substring(0, attributes).trim();
            }
            if (path.isEmpty()) {
                continue;
            }
            if (path.contains("*")) {
                int slash = path.lastIndexOf('/');
                String folder = slash < 0 ? "/" : path.substring(0, slash);
                Enumeration<URL> found = bundle.findEntries(folder, path.substring(slash + 1), false);
                if (found != null) {
                    urls.addAll(Collections.list(found));
                }
            } else {
                URL url = bundle.getEntry(path);
                if (url != null) {
                    urls.add(url);
                }
            }
        }
        return urls;
    }

    /** The spanker.command values of the components in one description that provide a console command. */
    static List<String> commandsIn(URL description) {
        List<String> names = new ArrayList<>();
        Document document;
        try (InputStream in = description.openStream()) {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(new DefaultHandler()); // errors come back as exceptions, not as stderr lines
            document = builder.parse(in);
        } catch (IOException | SAXException | ParserConfigurationException e) {
            // An unreadable description only costs the early answer: the catalog falls back to waiting.
            return names;
        }
        NodeList components = document.getElementsByTagNameNS("*", "component");
        if (components.getLength() == 0) {
            components = document.getElementsByTagName("component");
        }
        for (int i = 0; i < components.getLength(); i++) {
            Element component = (Element) components.item(i);
            if ("false".equals(component.getAttribute("enabled"))
                    || "require".equals(component.getAttribute("configuration-policy"))
                    || !provides(component, ConsoleCommand.class.getName())) {
                continue;
            }
            NodeList properties = component.getElementsByTagName("property");
            for (int p = 0; p < properties.getLength(); p++) {
                Element property = (Element) properties.item(p);
                if (!ConsoleCommand.NAME.equals(property.getAttribute("name"))) {
                    continue;
                }
                String value = property.hasAttribute("value") ? property.getAttribute("value")
                        : property.getTextContent();
                for (String line : value.split("\n")) {
                    if (!line.isBlank()) {
                        names.add(line.trim());
                    }
                }
            }
        }
        return names;
    }

    private static boolean provides(Element component, String interfaceName) {
        NodeList provides = component.getElementsByTagName("provide");
        for (int i = 0; i < provides.getLength(); i++) {
            if (interfaceName.equals(((Element) provides.item(i)).getAttribute("interface"))) {
                return true;
            }
        }
        return false;
    }
}
