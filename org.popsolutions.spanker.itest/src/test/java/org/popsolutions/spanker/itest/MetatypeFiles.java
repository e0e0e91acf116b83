package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Checks a bundle's metatype document against the {@code etc/<pid>.cfg} files the distribution ships: each
 * designated PID has its file, each attribute is set there to its metatype default, and the attribute's (and
 * the PID's) description is in the file's comments. Runs inside the container.
 */
final class MetatypeFiles {
    private MetatypeFiles() {
    }

    /** @return how many PIDs the document designates (each checked) */
    static int check(URL metatype, Path etc) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document;
        try (InputStream in = metatype.openStream()) {
            document = factory.newDocumentBuilder().parse(in);
        }
        Map<String, Element> definitions = new HashMap<>();
        NodeList ocds = document.getElementsByTagName("OCD");
        for (int i = 0; i < ocds.getLength(); i++) {
            Element ocd = (Element) ocds.item(i);
            definitions.put(ocd.getAttribute("id"), ocd);
        }
        NodeList designates = document.getElementsByTagName("Designate");
        for (int i = 0; i < designates.getLength(); i++) {
            Element designate = (Element) designates.item(i);
            String pid = designate.getAttribute("pid");
            Element object = (Element) designate.getElementsByTagName("Object").item(0);
            checkFile(pid, definitions.get(object.getAttribute("ocdref")), etc.resolve(pid + ".cfg"));
        }
        return designates.getLength();
    }

    private static void checkFile(String pid, Element ocd, Path file) throws Exception {
        assertTrue("etc/" + pid + ".cfg ships", Files.isRegularFile(file));
        List<String> lines = Files.readAllLines(file);
        String comments = normalize(lines.stream().map(String::strip).filter(l -> l.startsWith("#"))
                .map(l -> l.substring(1).strip()).collect(Collectors.joining(" ")));
        List<String> settings = lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        String ocdDescription = normalize(ocd.getAttribute("description"));
        assertTrue(file + " describes the PID as its metatype does: " + ocdDescription, comments.contains(ocdDescription));
        NodeList attributes = ocd.getElementsByTagName("AD");
        for (int i = 0; i < attributes.getLength(); i++) {
            Element attribute = (Element) attributes.item(i);
            String setting = (attribute.getAttribute("id") + " = " + attribute.getAttribute("default")).strip();
            assertTrue(file + " sets the default: " + setting + " in " + settings, settings.contains(setting));
            String description = normalize(attribute.getAttribute("description"));
            assertTrue(file + " describes " + attribute.getAttribute("id") + ": " + description,
                    comments.contains(description));
        }
        assertTrue(file + " sets nothing the metatype does not describe: " + settings,
                settings.size() == attributes.getLength());
    }

    private static String normalize(String text) {
        return text.replaceAll("\\s+", " ").strip();
    }
}
