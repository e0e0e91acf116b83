package org.popsolutions.spanker.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeclaredCommandsTest {
    @TempDir
    Path folder;

    private List<String> commandsIn(String xml) throws IOException {
        Path file = Files.writeString(folder.resolve("component.xml"), xml);
        return DeclaredCommands.commandsIn(file.toUri().toURL());
    }

    @Test
    void aComponentProvidingAConsoleCommandDeclaresItsNames() throws IOException {
        assertEquals(List.of("bandwidth"), commandsIn("""
                <?xml version="1.0" encoding="UTF-8"?>
                <scr:component xmlns:scr="http://www.osgi.org/xmlns/scr/v1.3.0" name="x.Bandwidth">
                  <property name="spanker.command" type="String" value="bandwidth"/>
                  <service><provide interface="org.popsolutions.spanker.api.console.ConsoleCommand"/></service>
                  <implementation class="x.Bandwidth"/>
                </scr:component>
                """));
        assertEquals(List.of("fleet", "fleets"), commandsIn("""
                <scr:component xmlns:scr="http://www.osgi.org/xmlns/scr/v1.4.0" name="x.Fleet">
                  <property name="spanker.command" type="String">fleet
                fleets</property>
                  <service><provide interface="org.popsolutions.spanker.api.console.ConsoleCommand"/></service>
                  <implementation class="x.Fleet"/>
                </scr:component>
                """));
    }

    @Test
    void componentsThatMayNeverAppearAreNotExpected() throws IOException {
        String provide = "<service><provide interface=\"org.popsolutions.spanker.api.console.ConsoleCommand\"/>"
                + "</service><property name=\"spanker.command\" value=\"x\"/>";
        String open = "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.4.0\" name=\"x\" ";
        assertEquals(List.of(), commandsIn(open + "enabled=\"false\">" + provide + "</scr:component>"));
        assertEquals(List.of(), commandsIn(open + "configuration-policy=\"require\">" + provide + "</scr:component>"));
        assertEquals(List.of(), commandsIn(open + "><service><provide interface=\"some.Other\"/></service>"
                + "<property name=\"spanker.command\" value=\"x\"/></scr:component>"));
        assertEquals(List.of(), commandsIn("not xml at all"));
    }
}
